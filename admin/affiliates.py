"""Affiliates: the screen listing them (a client made an affiliate) and the affiliate picker the
order page uses instead of an id box (an AJAX search, actions.search.affiliates)."""

from flask_admin.model.ajax import AjaxModelLoader
from markupsafe import Markup
from sqlalchemy import select
from sqlalchemy.orm import selectinload
from wtforms.validators import ValidationError

from actions.search import affiliates
from admin.base import SecureModelView
from admin.items import CLIENT_PICKER
from admin.list_input import primary_key_value
from extensions import db
from models import Affiliate, Order, Permission

PICKER_LIMIT = 10


class AffiliateLoader(AjaxModelLoader):
    """`<view>/ajax/lookup/?name=affiliate&query=ada`: affiliates by id or client name, email or
    company; one page of at most PICKER_LIMIT (the search is a prefix lookup, never a scan)."""

    def __init__(self):
        super().__init__("affiliate", {"placeholder": "Search affiliates by name, email or id"})

    def format(self, model):
        return (model.id, str(model)) if model is not None else None

    def get_one(self, pk):
        value = primary_key_value(Affiliate, pk)
        return None if value is None else db.session.get(Affiliate, value)

    def get_list(self, query, offset=0, limit=PICKER_LIMIT):
        if offset:  # one page only: the best matches come first
            return []
        return affiliates(db.session, query or "", limit=min(limit or PICKER_LIMIT, PICKER_LIMIT))


class AffiliateView(SecureModelView):
    permission = Permission.LIST_AFFILIATES
    create_permission = delete_permission = Permission.MANAGE_AFFILIATES
    allow_edit = False  # an affiliate is its client; remove it and make another client one instead

    column_list = ("id", "client", "created_at")
    column_labels = {"id": "ID", "created_at": "Affiliate since"}
    column_default_sort = ("id", True)
    column_filters = ("client_id",)
    form_columns = ("client",)
    form_ajax_refs = {"client": CLIENT_PICKER}
    list_noun = "affiliates"

    def get_query(self):
        return super().get_query().options(selectinload(Affiliate.client))

    def on_model_change(self, form, model, is_created):
        if model.client is None:
            raise ValidationError("Pick the client who becomes an affiliate.")
        taken = select(Affiliate.id).where(Affiliate.client_id == model.client.id)
        if model.id is not None:
            taken = taken.where(Affiliate.id != model.id)
        with db.session.no_autoflush:  # the new row is in the session already: do not find itself
            found = db.session.scalar(taken.limit(1))
        if found:
            raise ValidationError(f"{model.client} is already an affiliate.")

    def on_model_delete(self, model):
        if db.session.scalar(select(Order.id).where(Order.affiliate_id == model.id).limit(1)):
            raise ValidationError(f"Affiliate {model} referred orders; assign them another affiliate "
                                  "first (order page, Affiliate).")

    def empty_hint(self):
        hint = Markup("An affiliate is a client who refers orders.")
        if self.can_create:
            link = Markup(' <a href="{}">Make a client an affiliate</a>.')
            hint += link.format(self.get_url(".create_view"))
        return hint
