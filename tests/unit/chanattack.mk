# The lab's hostile relay (tools/lab/guest/chanattack.c, included by the test) against the
# core's exchange behind a fake monitor (fake_monitor.c: chan_vmcall.c's checks).
UNIT_TESTS += chanattack
UNIT_SRC_chanattack := tests/unit/fake_monitor.c tools/hvrelay/chancall.c \
	tools/hvctl/chan_client.c hv/console/channel.c hv/chan/sig.c hv/chan/frame.c \
	hv/chan/session.c hv/console/cmd.c hv/console/proto.c hv/lib/fmt.c hv/lib/json.c
UNIT_LIBS_chanattack := -lbearssl
