# The core's exchange (hv/console/channel.c): hello, requests queued for the console, the
# reply text handed out in signed pieces, busy and a hello in the middle, against hvctl's
# client side (tools/hvctl/chan_client.c); docs/channel.md.
UNIT_TESTS += channel
UNIT_SRC_channel := hv/console/channel.c hv/chan/sig.c hv/chan/frame.c hv/chan/session.c \
	tools/hvctl/chan_client.c hv/console/cmd.c hv/console/proto.c hv/lib/fmt.c
UNIT_LIBS_channel := -lbearssl
