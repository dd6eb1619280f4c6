#!/bin/bash
# probe 4 with the model check, through an OpenAI-compatible llama.cpp server started by hand, without and with its RAM prompt cache
# run from the repository, the local model installed (its file in the cache, as `assistant` joined it)
M=${MODEL:-$HOME/.cache/article-assistant/qwen2.5-coder-1.5b-instruct-q4_k_m.gguf}
P=docs/results/issue23/probes
OUT=${OUT:-/tmp}
for cache in False True; do
  python -m llama_cpp.server --model $M --model_alias local --host 127.0.0.1 --port 8765 --n_ctx 4096 --n_batch 512 --n_threads 2 --n_threads_batch 2 --cache $cache --verbose False > $OUT/cache-server-$cache.log 2>&1 &
  pid=$!
  for i in $(seq 1 60); do curl -s 127.0.0.1:8765/v1/models > /dev/null && break; sleep 1; done
  echo "cache=$cache start $(date +%T)"
  ASSISTANT_ANSWERER=openai OPENAI_BASE_URL=http://127.0.0.1:8765/v1 OPENAI_API_KEY=x ASSISTANT_CHAT_MODEL=local ASSISTANT_CONDENSE=conversation ASSISTANT_MODEL_CHECK=1 PYTHONPATH=. python $P/run_probe.py $P/probe4-questions.json $OUT/probe4-check-cache-$cache.json > $OUT/probe4-check-cache-$cache.log 2>&1
  echo "cache=$cache done $(date +%T)"
  kill $pid; wait $pid 2>/dev/null
done
