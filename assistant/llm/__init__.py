"""The chat models, a peer of answering/ and indexing/: the client contract and streaming helpers
(`chat_model.py`), the prompt templates loaded by name (`prompts.py`; the files are in the top-level `prompts/`),
which backend answers and why (`choice.py`), how each backend is reached (`backends.py`), and our own llama.cpp
server: its process, the runtime record every process shares, the model weights and its chat client (`local/`).

It imports only the shared modules directly under assistant/, never the answering stages that use it."""
