"""Plug-ins that talk to the outside world: servers, registrars, gateways, fraud, mail.

Modules receive plain dataclasses (modules.base) and return result objects.
They never import models/, actions/, admin/, api/, jobs/ or flask, and never
touch the database: jobs build the parameters and record the outcome.
"""
