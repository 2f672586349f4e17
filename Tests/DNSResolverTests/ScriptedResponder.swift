import Foundation
import Glibc
import Synchronization

/// A UDP "server" on 127.0.0.1 that answers every query the same broken way, for the answers
/// no real server here gives on demand: SERVFAIL, and a NOERROR answer cut short.
final class ScriptedResponder: Sendable {
    enum Script: Sendable {
        /// Echo the question with this RCODE and no answer.
        case rcode(UInt8)
        /// NOERROR with one A record whose data is cut off after two bytes.
        case truncatedRecord
    }

    let port: UInt16
    private let socket: LoopbackSocket
    private let stopped = Mutex(false)
    private let done = Mutex(false)

    init(_ script: Script) throws {
        socket = try LoopbackSocket(.udp, port: 0)
        port = socket.port
        var timeout = timeval(tv_sec: 0, tv_usec: 50_000)
        setsockopt(socket.fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        let thread = Thread { [self] in
            self.serve(script)
        }
        thread.start()
    }

    var server: String { "127.0.0.1:\(port)" }

    /// Ends the serving thread (it notices within 50 ms) and closes the socket.
    func stop() {
        stopped.withLock { $0 = true }
        for _ in 0..<100 where !done.withLock({ $0 }) {
            usleep(10_000)
        }
        socket.close()
    }

    private func serve(_ script: Script) {
        defer { done.withLock { $0 = true } }
        var buffer = [UInt8](repeating: 0, count: 512)
        // Bounded: 50 ms per turn, 30 s at most.
        for _ in 0..<600 where !stopped.withLock({ $0 }) {
            var peer = sockaddr_in()
            var peerLength = socklen_t(MemoryLayout<sockaddr_in>.size)
            let count = withUnsafeMutablePointer(to: &peer) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    recvfrom(socket.fd, &buffer, buffer.count, 0, $0, &peerLength)
                }
            }
            guard count >= 12 else {
                continue
            }
            let reply = Self.reply(to: Array(buffer[0..<count]), script)
            _ = withUnsafePointer(to: &peer) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    sendto(socket.fd, reply, reply.count, 0, $0, peerLength)
                }
            }
        }
    }

    /// RFC 1035 section 4.1.1: QR set, opcode and RD kept, RA set, RCODE in the low bits.
    static func reply(to query: [UInt8], _ script: Script) -> [UInt8] {
        var reply = query
        reply[2] = 0x80 | (query[2] & 0x79)
        switch script {
        case .rcode(let rcode):
            reply[3] = 0x80 | (rcode & 0x0F)
        case .truncatedRecord:
            reply[3] = 0x80
            reply[6] = 0
            reply[7] = 1
            // Owner: pointer to the question name; A, IN, TTL 60, RDLENGTH 4, two bytes of data.
            reply += [0xC0, 0x0C, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00, 0x00, 0x3C, 0x00, 0x04, 192, 0]
        }
        return reply
    }
}
