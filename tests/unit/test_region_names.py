"""Province names come from the Kemendagri reference, even for a province whose own desk is not a
source (its regencies still roll up under its name)."""

from __future__ import annotations

from complaints.config import INCLUDE_DIR
from complaints.registry import load_registry


def test_registry_frame_names_every_province_from_the_reference():
    frame = load_registry(INCLUDE_DIR / "registry" / "sources.small.yaml").to_frame()
    names = dict(zip(frame["source_id"], frame["province_name"], strict=True))
    assert names["kota-7371"] == "Sulawesi Selatan"  # its province's desk is not in this registry
    assert names["kab-5102"] == "Bali"
    assert names["prov-31"] == "Daerah Khusus Ibukota Jakarta"
    assert (
        frame.loc[frame.source_id == "kemendagri", "province_name"].isna().all()
    )  # central institutions belong to no province
