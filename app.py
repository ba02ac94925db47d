import streamlit as st

st.title("mnistdemo")
st.write("The app is being built; train from the command line: `python -m mnistdemo train`.")
