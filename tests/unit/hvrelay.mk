# hvrelay (tools/hvrelay/hvrelay.c, included by the test): its line cutting, and the relay
# with --stdio in front of the core's exchange behind a fake monitor (fake_monitor.c).
UNIT_TESTS += hvrelay
UNIT_SRC_hvrelay := tests/unit/fake_monitor.c tools/hvrelay/chancall.c tools/hvrelay/lines.c \
	tools/hvctl/chan_client.c hv/console/channel.c hv/chan/sig.c hv/chan/frame.c \
	hv/chan/session.c hv/console/cmd.c hv/console/proto.c hv/lib/base64.c hv/lib/fmt.c \
	hv/lib/json.c
UNIT_LIBS_hvrelay := -lbearssl
