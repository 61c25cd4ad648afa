"""The one turn engine: the LangGraph turn loop, durable sessions, replay, playback and the Gymnasium facade."""
