"""Development and test tools; never shipped (.dockerignore leaves devtools/ out of the image)."""
