"""What programs and agents use: the answer and its citations as plain JSON (`payloads`), and LangChain's
retriever and runnable over an `Assistant` (`langchain`). The web app serves the same payloads at `/answer`
and as MCP tools (`assistant/web/agents.py`)."""
