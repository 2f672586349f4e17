#if canImport(Glibc)
import Glibc
#endif

public enum WardenVersion {
    public static let current = "0.1.0"
}

/// Writes to standard error without Foundation in the command-line target.
public enum FileHandleShim {
    public static func writeToStandardError(_ string: String) {
        var bytes = Array(string.utf8)
        bytes.withUnsafeMutableBytes { raw in
            var offset = 0
            while offset < raw.count {
                let written = write(2, raw.baseAddress! + offset, raw.count - offset)
                if written <= 0 { break }
                offset += written
            }
        }
    }
}
