"""The local PyTorch inference engine: loaders, paged KV cache, continuous batching, server.

Public entry points: :class:`runtime.engine.engine.Engine` (load a model, generate),
:class:`runtime.engine.chat_model.EngineChatModel` (LangChain), ``runtime.engine.server``
(OpenAI-compatible HTTP), :mod:`runtime.engine.pull` (the model cache).
"""
