import SMTPFuzzing

#if FUZZING
// Built by Fuzz/run with -sanitize=fuzzer: libFuzzer provides main and calls this.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    SMTPFuzzing.run(Array(UnsafeBufferPointer(start: data, count: size)))
    return 0
}
#else
import Foundation

/// Without the fuzzer: replays the files named on the command line (a corpus or a crash).
@main
enum FuzzReplay {
    static func main() {
        for path in CommandLine.arguments.dropFirst() {
            guard let data = FileManager.default.contents(atPath: path) else {
                print("cannot read \(path)")
                continue
            }
            SMTPFuzzing.run(Array(data))
        }
    }
}
#endif
