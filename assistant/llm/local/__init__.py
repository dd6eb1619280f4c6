"""Our own local model: llama.cpp's server, one per model file and shared by every process (`llama_server.py`);
what the processes share beside the model cache (`runtime.py`); the model's weights, joined and checked
(`local_model.py`); and its chat client, each request marked in flight (`local_chat.py`)."""
