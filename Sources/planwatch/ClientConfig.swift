import Foundation
import Yams

/// Where the CLI finds the daemon when no flag says: a flag, then a `PLANWATCH_*` environment
/// variable, then the client config file, then the embedded default — as amtool and kcat do.
///
/// The file is YAML, `$PLANWATCH_CLIENT_CONFIG` or `~/.config/planwatch/client.yml`
/// (`$XDG_CONFIG_HOME/planwatch/client.yml`):
/// ```yaml
/// ingestEndpoint: tcp://planwatch.jyj:5550
/// ackEndpoint: tcp://planwatch.jyj:5551
/// outputEndpoint: tcp://planwatch.jyj:5560
/// snapshotEndpoint: tcp://planwatch.jyj:5561
/// serverKey: /etc/planwatch/keys/planwatchd.public
/// keyFile: ~/.config/planwatch/operator.secret
/// http: https://planwatch.jyj:8080
/// user: wangmin
/// ```
enum ClientConfig {
    /// Each setting: its key in the file and its environment variable.
    static let settings: [(key: String, env: String)] = [
        ("ingestEndpoint", "PLANWATCH_INGEST_ENDPOINT"), ("ackEndpoint", "PLANWATCH_ACK_ENDPOINT"),
        ("outputEndpoint", "PLANWATCH_OUTPUT_ENDPOINT"), ("snapshotEndpoint", "PLANWATCH_SNAPSHOT_ENDPOINT"),
        ("serverKey", "PLANWATCH_SERVER_KEY"), ("keyFile", "PLANWATCH_KEY_FILE"), ("http", "PLANWATCH_HTTP"), ("user", "PLANWATCH_USER"),
    ]

    static var path: String {
        let env = ProcessInfo.processInfo.environment
        if let path = env["PLANWATCH_CLIENT_CONFIG"], !path.isEmpty { return path }
        let base = env["XDG_CONFIG_HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? (NSHomeDirectory() + "/.config")
        return base + "/planwatch/client.yml"
    }

    /// The file's settings, or why it cannot be read (an absent file is no settings).
    static let file: Result<[String: String], CLIError> = {
        let path = Self.path
        guard FileManager.default.fileExists(atPath: path) else {
            return ProcessInfo.processInfo.environment["PLANWATCH_CLIENT_CONFIG"] == nil
                ? .success([:]) : .failure(CLIError("client config \(path) (PLANWATCH_CLIENT_CONFIG) does not exist"))
        }
        do {
            let text = try String(contentsOfFile: path, encoding: .utf8)
            guard let node = try Yams.compose(yaml: text) else { return .success([:]) }
            guard let mapping = node.mapping else { return .failure(CLIError("\(path): expected a mapping of settings")) }
            var out: [String: String] = [:]
            let known = Set(settings.map(\.key))
            for (key, value) in mapping {
                let name = key.string ?? ""
                guard known.contains(name) else {
                    return .failure(CLIError("\(path):\(key.mark.map { "\($0.line)" } ?? "?"): unknown setting '\(name)' (known: \(settings.map(\.key).joined(separator: ", ")))"))
                }
                guard let text = value.string, !text.isEmpty else {
                    return .failure(CLIError("\(path):\(value.mark.map { "\($0.line)" } ?? "?"): \(name): expected a text value"))
                }
                out[name] = text.hasPrefix("~/") ? NSHomeDirectory() + text.dropFirst() : text
            }
            return .success(out)
        } catch {
            return .failure(CLIError("\(path): not valid YAML: \(error)"))
        }
    }()

    /// The environment's or the file's value of a setting, if either has one.
    static func value(_ key: String) -> String? {
        guard let env = settings.first(where: { $0.key == key })?.env else { return nil }
        if let v = ProcessInfo.processInfo.environment[env], !v.isEmpty { return v }
        return (try? file.get())?[key]
    }

    static func value(_ key: String, default fallback: String) -> String { value(key) ?? fallback }

    /// Throws when the client config file is unreadable (called by every command that talks to the daemon).
    static func check() throws {
        if case .failure(let error) = file { throw error }
    }
}
