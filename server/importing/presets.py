"""Reading other systems' exports: which of their columns become which of ours (`--preset`).

InvenTree (its admin's CSV exports, English column names: `PartResource`, `StockItemResource`,
`LocationResource`):
- parts: the part number is the IPN, else the Part Name; Part Description, Revision and Units as they are;
  Trackable parts are serial-tracked, the others untracked (a `tracking` column of ours, added to the file,
  says otherwise per part).
- locations: the code is the Location Path (`Factory/Stores/Shelf 2`, its parents made as for any path),
  the name its Location Name.
- stock: the part is the first piece of InvenTree's full part name (`IPN | Name | Revision`, the IPN when there
  is one: the part number the parts preset gave it); the location is the Location Name, matched against
  location codes, names and the last segments of paths (InvenTree's export gives no path); Batch is the lot,
  purchase_price the unit cost, Supplier Name the supplier, Expiry Date the expiry. Items that are not OK or
  Attention (lost, destroyed, rejected, quarantined…), installed in another item, or at a customer are no
  stock to open with: refused, naming InvenTree's column.
A column named as one of ours is read as ours, also in a preset's file. Other columns are ignored.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from server.importing.report import Refusal

# (our cells, the file's column for each, refusals of the row naming the file's columns)
Mapped = tuple[dict[str, str], dict[str, str], list[Refusal]]

INVENTREE_STOCK_STATUS = {  # InvenTree's StockStatus codes
    "10": "OK", "50": "Attention", "55": "Damaged", "60": "Destroyed", "65": "Rejected", "70": "Lost",
    "75": "Quarantined", "85": "Returned",
}
INVENTREE_IN_STOCK = {"10", "50"}


@dataclass(frozen=True, slots=True)
class Preset:
    name: str
    mappings: dict[str, Callable[[dict[str, str]], Mapped]]  # per kind: the file's cells (by lower-case column)
    signature: dict[str, tuple[str, ...]]  # per kind: columns (lower case) such a file has
    locate_by_name: frozenset[str] = field(default_factory=frozenset)  # kinds whose locations come by name


def _pick(cells: dict[str, str], pairs: dict[str, str]) -> tuple[dict[str, str], dict[str, str]]:
    """{ours: theirs}: our cells from their columns that are there, and where each came from."""
    ours, sources = {}, {}
    for column, theirs in pairs.items():
        if theirs.lower() in cells:
            ours[column], sources[column] = cells[theirs.lower()], theirs
    return ours, sources


def inventree_parts(cells: dict[str, str]) -> Mapped:
    ours, sources = _pick(cells, {"description": "Part Description", "revision": "Revision", "unit": "Units"})
    number = "IPN" if cells.get("ipn") else "Part Name"
    ours["part_number"], sources["part_number"] = cells.get(number.lower(), ""), number
    if "trackable" in cells:
        trackable = cells["trackable"].lower() in ("1", "true", "yes")
        ours["tracking"], sources["tracking"] = "serial" if trackable else "untracked", "Trackable"
    return ours, sources, []


def inventree_locations(cells: dict[str, str]) -> Mapped:
    ours, sources = _pick(cells, {"code": "Location Path", "name": "Location Name"})
    return ours, sources, []


def inventree_stock(cells: dict[str, str]) -> Mapped:
    ours, sources = _pick(cells, {
        "location": "Location Name", "quantity": "Quantity", "serial": "Serial", "lot": "Batch",
        "unit_cost": "purchase_price", "supplier": "Supplier Name", "expiry": "Expiry Date",
    })
    ours["part"], sources["part"] = cells.get("part name", "").split(" | ")[0].strip(), "Part Name"
    refusals = []
    status = cells.get("status code", "")
    if status and status not in INVENTREE_IN_STOCK:
        label = INVENTREE_STOCK_STATUS.get(status, "unknown")
        refusals.append(Refusal("Status Code", f"{status} ({label}) in InvenTree: only stock that is OK or needs "
                                               "attention opens a balance"))
    if cells.get("installed in"):
        refusals.append(Refusal("Installed In", f"installed in InvenTree stock item {cells['installed in']}: import "
                                                "it on its own, then install it (an install op)"))
    if cells.get("customer id"):
        refusals.append(Refusal("Customer ID", f"at InvenTree customer {cells['customer id']}: not in stock"))
    return ours, sources, refusals


INVENTREE = Preset(
    name="inventree",
    mappings={"parts": inventree_parts, "locations": inventree_locations, "stock": inventree_stock},
    signature={
        "parts": ("part name", "ipn", "part description"),
        "locations": ("location path", "location id"),
        "stock": ("stock item id", "part name", "location name"),
    },
    locate_by_name=frozenset({"stock"}),
)
PRESETS = {preset.name: preset for preset in (INVENTREE,)}
