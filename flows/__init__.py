"""The pure core of vertebrobot: content models, the flow engine and its rules."""
