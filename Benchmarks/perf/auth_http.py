"""nginx mail `auth_http` responder for the benchmark: every request is answered
`Auth-Status: OK` naming the sink as the server, so nginx proxies every session there.

    python3 auth_http.py LISTEN_PORT SINK_PORT

asyncio, HTTP/1.0, one response per connection (what nginx's auth_http speaks). Runs until
SIGTERM; prints the number of requests answered to stdout on exit."""

import asyncio
import signal
import sys


async def main(listen_port: int, sink_port: int) -> None:
    answer = (b"HTTP/1.0 200 OK\r\nAuth-Status: OK\r\nAuth-Server: 127.0.0.1\r\n"
              b"Auth-Port: %d\r\nContent-Length: 0\r\n\r\n" % sink_port)
    served = 0

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal served
        try:
            await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 10)
            writer.write(answer)
            await writer.drain()
            served += 1
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, asyncio.TimeoutError, OSError):
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", listen_port, backlog=1024)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    print("ready", flush=True)
    await stop.wait()
    server.close()
    print(f"served {served}", flush=True)


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]), int(sys.argv[2])))
