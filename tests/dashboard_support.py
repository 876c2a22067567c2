"""Reading the dashboard's figures back from its page (tests and bench/dashboard_bench.py)."""

import re
from datetime import date


def shown_orders_table(html: str) -> dict:
    """{(day, status): orders} from the dashboard's "Orders per day, as figures" table."""
    table = html.split('id="table-orders"', 1)[1].split("</table>", 1)[0]
    statuses = re.findall(r"<th>([^<]*)</th>", table.split("</thead>", 1)[0])[1:]
    shown = {}
    for row in re.findall(r"<tr>(.*?)</tr>", table.split("<tbody>", 1)[1], flags=re.S):
        day, *counts = re.findall(r"<td>([^<]*)</td>", row)
        shown.update({(date.fromisoformat(day), status): int(n)
                      for status, n in zip(statuses, counts, strict=True) if n != "0"})
    return shown
