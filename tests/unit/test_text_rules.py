"""The NUL rule: where a NUL is in decoded JSON, and what a refused op's record keeps instead."""

from __future__ import annotations

from server.rules.text import nul_at, without_nul


def test_the_first_nul_is_named_by_its_path() -> None:
    assert nul_at({"part": "PN-1", "lots": ["L1", "L\x002"]}, "args") == "args.lots[1]"
    assert nul_at({"items": [{"kind": "part"}, {"part": {"x\x00y": 1}}]}) == "items[1].part.x\\0y"
    assert nul_at("a\x00", "code") == "code"
    assert nul_at({"serial": "SN-1", "quantity": 1, "note": None, "ok": True}, "args") is None


def test_a_nul_written_as_text_is_not_one() -> None:
    assert nul_at({"description": "C:\\u0000"}) is None


def test_a_refused_op_keeps_its_text_with_u_fffd_for_each_nul() -> None:
    body = {"type": "receive", "args": {"serial": "SN\x001", "k\x00": [1, "\x00"]}}
    assert without_nul(body) == {"type": "receive", "args": {"serial": "SN\ufffd1", "k\ufffd": [1, "\ufffd"]}}
