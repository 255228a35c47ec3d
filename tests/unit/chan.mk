# The channel's cryptography (RFC test vectors), frames, the monitor's session and hvctl's
# client side together (hv/chan/, tools/hvctl/chan_client.c; docs/channel.md).
UNIT_TESTS += chan
UNIT_SRC_chan := hv/chan/sig.c hv/chan/frame.c hv/chan/session.c tools/hvctl/chan_client.c
UNIT_LIBS_chan := -lbearssl
