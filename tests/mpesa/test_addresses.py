"""The callback source-IP allow-list."""

from __future__ import annotations

import pytest

from connectors.mpesa.addresses import SAFARICOM_CALLBACK_IPS, allowed, parse_networks


def test_the_published_list_and_networks_parse() -> None:
    networks = parse_networks("safaricom, 203.0.113.0/24")
    assert allowed("196.201.214.200", networks) and allowed("203.0.113.77", networks)
    assert not allowed("198.51.100.1", networks) and not allowed(None, networks)
    assert len(parse_networks("safaricom")) == len(SAFARICOM_CALLBACK_IPS)
    with pytest.raises(ValueError, match="not an IP"):
        parse_networks("safaricom, nowhere")
