# The console with the channel (hv/console/console.c + channel.c): a channel request's reply
# goes to the channel, not the UART; a job whose reply the relay stops taking is cut after
# 10 s so the serial console is not kept busy (the control: busy before that).
UNIT_TESTS += console_channel
UNIT_SRC_console_channel := hv/console/console.c hv/console/channel.c hv/console/cmd.c \
	hv/console/line.c hv/console/rx.c hv/console/proto.c hv/lib/fmt.c hv/lib/json.c \
	hv/chan/sig.c hv/chan/frame.c hv/chan/session.c tools/hvctl/chan_client.c \
	hv/console/zbody.c hv/lib/base64.c tools/hvctl/zreply.c hv/core/log.c
UNIT_LIBS_console_channel := -lbearssl -lz
