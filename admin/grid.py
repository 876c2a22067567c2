"""What every list grid says about itself: a title naming the filter that is on ("Pending
orders", not "All Orders") and, when nothing is listed, what to do next. Mixed into
SecureModelView; the template is admin/grid.html (which also repeats the bulk actions under the
grid). Reads only the request's arguments and the filters parsed once per request."""

import re

from flask import request
from markupsafe import Markup, escape

_FILTER_ARG = re.compile(r"^flt\d+_(.+)$")


class FriendlyListMixin:
    list_noun: str | None = None  # the rows in a title, "orders"; default: the view's name

    def list_noun_text(self) -> str:
        return self.list_noun or str(self.name).lower()

    def url_filters(self) -> dict[str, str]:
        """{"status_group_equals": "pending"}: the list's filters as named in the URL."""
        found = {}
        for key, value in request.args.items():
            match = _FILTER_ARG.match(key)
            if match:
                found[match.group(1)] = value
        return found

    def filter_title(self, filters: dict[str, str]) -> str | None:
        """A view's own title for a filter it knows by name ("Pending orders"); None: generic."""
        return None

    def list_title(self) -> str:
        noun = self.list_noun_text()
        parsed = self.list_filters()
        search = request.args.get("search", "").strip()
        if parsed.errors:
            return f"{noun.capitalize()}: a filter could not be applied"
        named = self.filter_title(self.url_filters()) if not search else None
        if named:
            return named
        parts = list(parsed.described)
        if search:
            parts.append(f"search “{search[:60]}”")
        if not parts:
            return f"All {noun}"
        return f"{noun.capitalize()} matching {', '.join(parts)}"

    def empty_hint(self) -> Markup:
        """What to do when this list has no rows at all (no filter on)."""
        if self.can_create:
            return Markup('Use <a href="{}">Create</a> to add the first one.').format(
                self.get_url(".create_view"))
        return Markup("")

    def get_empty_list_message(self):
        noun = escape(self.list_noun_text())
        if self.url_filters() or request.args.get("search"):
            return Markup('No {} match. <a href="{}" id="clear-filters">Clear the filters and search</a> '
                          "or change them above.").format(noun, self.get_url(".index_view"))
        return Markup('<span id="empty-list">No {} yet.</span> {}').format(noun, self.empty_hint())
