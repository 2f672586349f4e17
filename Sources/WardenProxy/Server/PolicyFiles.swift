import Foundation

/// What the policy was loaded from, as names, sizes and modification times: a change of any of
/// them (a file edited, added to or removed from `Rules/` or `Blocklists/`) means reload.
enum PolicyFiles {
    struct Stamp: Hashable {
        var path: String
        var size: UInt64
        var modified: Date
    }

    static func fingerprint(_ settings: RuntimeSettings) -> Set<Stamp> {
        let configuration = settings.configuration
        var paths = Set(settings.policy.client?.rules.files ?? [])
        for directory in [configuration.policy.rules, configuration.policy.blocklists] {
            for name in (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? [] where !name.hasPrefix(".") {
                paths.insert((directory as NSString).appendingPathComponent(name))
            }
        }
        paths.formUnion(configuration.geoip.databases)
        return Set(paths.map { path in
            let attributes = try? FileManager.default.attributesOfItem(atPath: path)
            return Stamp(
                path: path, size: (attributes?[.size] as? NSNumber)?.uint64Value ?? 0,
                modified: attributes?[.modificationDate] as? Date ?? .distantPast)
        })
    }
}
