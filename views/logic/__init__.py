"""Page logic without Streamlit: what each page computes, as pure functions tests call directly.

One module per page (`overview`, `trends`, `compare`, `map`, `data`): DataFrame in,
DataFrame, text or a small dataclass out. The page scripts in `views/` only read the store
(through `views.common`'s cached queries), call these, and draw the result. Nothing here may
import streamlit: a test of a headline or an event marker needs no AppTest.
"""

from data_sources.model.metrics import metric_label

__all__ = ["metric_label"]  # the pages' modules import it from here
