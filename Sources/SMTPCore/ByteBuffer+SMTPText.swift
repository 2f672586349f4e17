import struct NIOCore.ByteBuffer

extension ByteBuffer {
    /// Writes `text` with every control byte (< 0x20, 0x7F) replaced by a space: whatever a
    /// value holds, it cannot end the line it is written on.
    @discardableResult
    mutating func writeSMTPText(_ text: String) -> Int {
        guard text.utf8.contains(where: ASCII.isControl) else {
            return writeString(text)
        }
        return writeBytes(text.utf8.map { ASCII.isControl($0) ? ASCII.space : $0 })
    }
}
