"""The floor: the least a Streamlit page with one plotly chart can cost on this machine.

A title and one three-point line chart, nothing else: no store, no widgets, no navigation.
Whatever this page needs (server, Streamlit's frontend, plotly.js) every Streamlit dashboard
pays, so the benchmarks measure it in the same run as a reference, not as a peer.
"""

import plotly.graph_objects as go
import streamlit as st

st.title("Floor")
st.plotly_chart(go.Figure(go.Scatter(x=[1, 2, 3], y=[1, 3, 2])))
