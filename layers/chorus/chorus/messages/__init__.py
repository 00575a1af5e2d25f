"""What Chorus sends to employees (the weekly digest, notices) and the channels it goes through.

Below the services: they build channel-neutral messages (``chorus.messages.channel``) and hand
them to a ``Channel``; each channel renders them its own way (``chorus.messages.email``).
"""
