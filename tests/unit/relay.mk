# hvctl --relay (tools/hvctl/relay.c) against the core's exchange (hv/console/channel.c)
# behind a fake relay on a socketpair: the reply taken whole, busy retried with the same
# frame, and what a hostile relay adds or alters refused before a byte of it is taken.
UNIT_TESTS += relay
UNIT_SRC_relay := tools/hvctl/relay.c tools/hvctl/conn.c tools/hvctl/keys.c \
	hv/console/channel.c hv/chan/sig.c hv/chan/frame.c hv/chan/session.c \
	tools/hvctl/chan_client.c hv/console/cmd.c hv/console/proto.c hv/lib/fmt.c \
	hv/lib/base64.c hv/lib/json.c
UNIT_LIBS_relay := -lbearssl -lpthread
$(BUILD)/unit/test_relay: UNIT_CFLAGS += -DRESEND_MS=400u
