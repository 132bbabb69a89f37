import Foundation
import PlanWatchConfig
import Testing

/// Ops/planwatchd.yaml is the complete sample operators copy from: every key the daemon
/// accepts is in it (set to its default, or commented out with an example), in its section.
@Suite struct SampleConfigTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    @Test func everyKeyTheDaemonAcceptsIsInTheSample() throws {
        let text = try String(contentsOf: Self.root.appendingPathComponent("Ops/planwatchd.yaml"), encoding: .utf8)
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        /// The lines of a top-level section (set or commented out), up to the next one.
        func section(_ name: String) -> [String] {
            var out: [String] = []
            var inside = false
            for line in lines {
                let bare = line.hasPrefix("# ") ? String(line.dropFirst(2)) : line
                if let first = bare.first, first.isLetter, bare.contains(":") {
                    inside = bare.hasPrefix(name + ":")
                    continue
                }
                if inside { out.append(line) }
            }
            return out
        }
        var missing: [String] = []
        for (name, keys) in DaemonConfig.knownKeys.sorted(by: { $0.key < $1.key }) {
            let body = name.isEmpty ? lines : section(name)
            for key in keys.sorted() {
                let written = body.contains { line in
                    let trimmed = line.drop { $0 == " " || $0 == "#" || $0 == "-" }
                    return trimmed.hasPrefix(key + ":")
                }
                if !written { missing.append(name.isEmpty ? key : "\(name).\(key)") }
            }
        }
        #expect(missing.isEmpty, "keys missing from Ops/planwatchd.yaml: \(missing)")
        // And it loads as the daemon reads it.
        _ = try DaemonConfig.load(path: Self.root.appendingPathComponent("Ops/planwatchd.yaml").path)
    }
}
