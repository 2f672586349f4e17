#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import WardenPolicy

/// `warden-bench lists`: writes `entries` random distinct CIDRs (half IPv4, half IPv6, from a
/// fixed seed) to a temporary file, times `AddressListLoader.load`, then times `lookups` lookups
/// of random addresses (half inside some entry, half anywhere), and prints resident memory
/// before and after the load.
struct ListsBenchmark {
    var entries: Int
    var lookups: Int
    var seed: UInt64 = 0x5741_5244_454E  // "WARDEN"

    func run() {
        var random = SplitMix64(seed: seed)
        let networks = generateNetworks(&random)
        let path = writeList(networks)
        defer { unlink(path) }
        let ipv4 = networks.filter(\.address.isIPv4).count
        print("entries: \(networks.count) (\(ipv4) IPv4, \(networks.count - ipv4) IPv6), file \(fileSize(path)) bytes")

        let rssBefore = residentKilobytes()
        print("rss before load: \(rssBefore.map { "\($0) kB" } ?? "unavailable")")
        let clock = ContinuousClock()
        let loadStart = clock.now
        let list: AddressList
        do {
            list = try AddressListLoader.load(path: path)
        } catch {
            print("load failed: \(error)")
            exit(1)
        }
        let loadTime = seconds(clock.now - loadStart)
        print("load \(list.count) entries: \(format(loadTime * 1e3, decimals: 1)) ms")
        let rssAfter = residentKilobytes()
        if let rssBefore, let rssAfter {
            print("rss after load: \(rssAfter) kB (+\(rssAfter - rssBefore) kB)")
        } else {
            print("rss after load: unavailable")
        }

        let addresses = lookupAddresses(networks, &random)
        var hits = 0
        var lineSum = 0
        let lookupStart = clock.now
        for address in addresses {
            if let match = list.lookup(address) {
                hits += 1
                lineSum &+= match.line
            }
        }
        let lookupTime = seconds(clock.now - lookupStart)
        let perLookup = lookupTime * 1e9 / Double(addresses.count)
        let perSecond = Double(addresses.count) / lookupTime
        print(
            "lookup \(addresses.count) addresses: \(format(perLookup, decimals: 1)) ns per lookup, "
                + "\(Int(perSecond)) lookups/s (\(hits) hits, line sum \(lineSum))"
        )
        print("rss at end: \(residentKilobytes().map { "\($0) kB" } ?? "unavailable")")
    }

    /// Prefix lengths shaped like real drop lists: many single hosts, the rest mostly /16 to /31
    /// (IPv4) and /24 to /64 (IPv6), inside 2000::/3 for IPv6.
    private func generateNetworks(_ random: inout SplitMix64) -> [Network] {
        var seen = Set<Network>()
        var networks: [Network] = []
        networks.reserveCapacity(entries)
        let ipv4Count = entries / 2
        while networks.count < entries {
            let network: Network?
            if networks.count < ipv4Count {
                let length = random.next() % 2 == 0 ? 32 : Int(8 + random.next() % 24)
                let value = UInt32(truncatingIfNeeded: random.next())
                network = Network(entryText(.v4(value & mask32(length)), length))
            } else {
                let length = random.next() % 4 == 0 ? 128 : Int(24 + random.next() % 41)
                let high = 0x2000_0000_0000_0000 | random.next() >> 3
                let (highMask, lowMask) = mask128(length)
                network = Network(entryText(.v6(high: high & highMask, low: random.next() & lowMask), length))
            }
            if let network, seen.insert(network).inserted { networks.append(network) }
        }
        return networks
    }

    private func lookupAddresses(_ networks: [Network], _ random: inout SplitMix64) -> [IPAddress] {
        (0..<lookups).map { index in
            if index % 2 == 0 {
                let network = networks[Int(random.next() % UInt64(networks.count))]
                switch network.address {
                case .v4(let value):
                    return .v4(value | UInt32(truncatingIfNeeded: random.next()) & ~mask32(network.prefixLength))
                case .v6(let high, let low):
                    let (highMask, lowMask) = mask128(network.prefixLength)
                    return .v6(high: high | random.next() & ~highMask, low: low | random.next() & ~lowMask)
                }
            }
            if index % 4 == 1 { return .v4(UInt32(truncatingIfNeeded: random.next())) }
            return .v6(high: 0x2000_0000_0000_0000 | random.next() >> 3, low: random.next())
        }
    }

    /// Host entries are written as bare addresses, as operators write them.
    private func entryText(_ address: IPAddress, _ length: Int) -> String {
        length == (address.isIPv4 ? 32 : 128) ? "\(address)" : "\(address)/\(length)"
    }

    private func writeList(_ networks: [Network]) -> String {
        var text = "# warden-bench lists: \(networks.count) random entries\n"
        for network in networks {
            text += entryText(network.address, network.prefixLength)
            text += "\n"
        }
        var template = Array("/tmp/warden-bench-lists-XXXXXX".utf8CString)
        let descriptor = mkstemp(&template)
        guard descriptor >= 0 else {
            print("cannot create a temporary file: \(String(cString: strerror(errno)))")
            exit(1)
        }
        defer { close(descriptor) }
        let bytes = Array(text.utf8)
        var offset = 0
        while offset < bytes.count {
            let written = bytes[offset...].withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
            guard written > 0 else {
                print("cannot write the temporary file: \(String(cString: strerror(errno)))")
                exit(1)
            }
            offset += written
        }
        return String(decoding: template.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}

private func mask32(_ length: Int) -> UInt32 {
    length == 0 ? 0 : ~UInt32(0) << UInt32(32 - length)
}

private func mask128(_ length: Int) -> (UInt64, UInt64) {
    func mask(_ bits: Int) -> UInt64 { bits <= 0 ? 0 : bits >= 64 ? ~0 : ~UInt64(0) << UInt64(64 - bits) }
    return (mask(length), mask(length - 64))
}

private func fileSize(_ path: String) -> Int {
    var status = stat()
    return stat(path, &status) == 0 ? Int(status.st_size) : -1
}

/// VmRSS from /proc/self/status, in kB; nil where there is no procfs.
private func residentKilobytes() -> Int? {
    guard let file = fopen("/proc/self/status", "r") else { return nil }
    defer { fclose(file) }
    var line = [CChar](repeating: 0, count: 256)
    while fgets(&line, Int32(line.count), file) != nil {
        let text = String(decoding: line.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        guard text.hasPrefix("VmRSS:") else { continue }
        return Int(text.dropFirst(6).filter(\.isNumber))
    }
    return nil
}

private func seconds(_ duration: Duration) -> Double {
    let (whole, fraction) = duration.components
    return Double(whole) + Double(fraction) / 1e18
}

private func format(_ value: Double, decimals: Int) -> String {
    let scale = pow(10, Double(decimals))
    let rounded = (value * scale).rounded() / scale
    return decimals == 0 ? "\(Int(rounded))" : "\(rounded)"
}

/// SplitMix64: a small seeded generator, so every run measures the same list.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
