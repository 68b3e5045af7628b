"""The registry of live feeds: name -> connector class."""

from __future__ import annotations

from data_sources.feeds.connectors.acled import AcledConnector
from data_sources.feeds.connectors.base import Batch, Connector, Scope
from data_sources.feeds.connectors.dtm import DtmConnector
from data_sources.feeds.connectors.fts import FtsConnector
from data_sources.feeds.connectors.hapi import HapiConnector
from data_sources.feeds.connectors.hxl_urls import HxlConnector
from data_sources.feeds.connectors.reliefweb import ReliefwebConnector
from data_sources.feeds.connectors.ucdp import UcdpConnector
from data_sources.feeds.connectors.unhcr import UnhcrConnector
from data_sources.feeds.connectors.wfp import WfpConnector

CONNECTORS: dict[str, type[Connector]] = {
    c.name: c
    for c in (
        HapiConnector,
        DtmConnector,
        WfpConnector,
        UcdpConnector,
        AcledConnector,
        ReliefwebConnector,
        UnhcrConnector,
        FtsConnector,
        HxlConnector,
    )
}

__all__ = ["CONNECTORS", "Batch", "Connector", "Scope"]
