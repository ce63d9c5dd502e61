"""Small HTML tables for notebooks (``_repr_html_``), a leaf module: escaping done once, here.

Jupyter shows an object's ``_repr_html_()``; simcc's results, scenarios and
plans return a short table built with :func:`table`, every cell escaped, so
a scenario name such as ``<b>`` shows as written.
"""
from __future__ import annotations

import html


def table(title: str, rows, header=None, note: str | None = None) -> str:
    """``<table>`` with a caption; ``rows`` are sequences of cells (any value, shown with ``str``)."""
    e = lambda x: html.escape(str(x), quote=True)  # noqa: E731
    out = [f'<table class="simcc"><caption style="text-align:left;font-weight:bold">{e(title)}</caption>']
    if header:
        out.append("<thead><tr>" + "".join(f"<th>{e(h)}</th>" for h in header) + "</tr></thead>")
    out.append("<tbody>")
    for row in rows:
        out.append("<tr>" + "".join(f'<td style="text-align:{"left" if i == 0 else "right"}">{e(c)}</td>'
                                    for i, c in enumerate(row)) + "</tr>")
    out.append("</tbody></table>")
    if note:
        out.append(f"<p><small>{e(note)}</small></p>")
    return "".join(out)
