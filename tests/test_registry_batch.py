"""``import-registry``'s own default batch, smaller than ``import``'s (issue 15: the first
snapshot's peak memory)."""

from __future__ import annotations


def test_import_registry_default_batch_is_its_own():
    from commands.registry import REGISTRY_BATCH_SIZE, import_registry
    from projections.importing import BATCH_SIZE

    sizes = [p.default for p in import_registry.params if p.name == "batch_size"]
    assert sizes == [REGISTRY_BATCH_SIZE] and REGISTRY_BATCH_SIZE < BATCH_SIZE
