import NIOCore

enum ByteBufferAllocatorShim {
    static func buffer(_ string: String = "") -> ByteBuffer {
        ByteBuffer(string: string)
    }
}
