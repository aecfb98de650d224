"""Publishing: the neutral feed model, one writer per format, pages, and the static export."""
