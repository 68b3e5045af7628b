"""The registry of live feeds: name -> connector class."""

from __future__ import annotations

from .acled import AcledConnector
from .base import Batch, Connector, Scope
from .dtm import DtmConnector
from .fts import FtsConnector
from .hapi import HapiConnector
from .hxl import HxlConnector
from .reliefweb import ReliefwebConnector
from .ucdp import UcdpConnector
from .unhcr import UnhcrConnector
from .wfp import WfpConnector

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
