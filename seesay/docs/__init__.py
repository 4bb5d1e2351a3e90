"""The user's documents: files read into text (``convert``), cut into passages (``passages``),
indexed in the history's database for keyword and meaning search (``library``), and put in
front of the chat model with numbered sources (``grounding``)."""
