"""The cyclic garbage collector is paused while large datasets are built, and only then."""

from __future__ import annotations

import gc

import pytest

from alembic_seeds.memory import collector_paused


def test_the_collector_is_on_again_after_the_block_even_when_it_fails() -> None:
    assert gc.isenabled()
    with pytest.raises(ValueError), collector_paused():
        assert not gc.isenabled()
        raise ValueError("a problem while loading")
    assert gc.isenabled()


def test_a_nested_pause_leaves_the_collector_as_the_outer_one_found_it() -> None:
    with collector_paused():
        with collector_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()
    assert gc.isenabled()


def test_a_collector_turned_off_by_the_caller_stays_off() -> None:
    gc.disable()
    try:
        with collector_paused():
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()
