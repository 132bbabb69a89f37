import Foundation
import HandlerKit
import Logging
import PlanWatchRuntime
import Yams
import ZeroMQ

/// The YAML configuration file of `planwatchd`. Every key is optional; what is absent
/// keeps its embedded default (the endpoints of CONTRACT.md, SQLite under ./var).
package struct DaemonConfig: Decodable, Equatable {
    package struct Storage: Decodable, Equatable {
        package var path: String?
        package var url: String?
        package var synchronous: String?
        package var retentionHours: Double?
        package var lockWaitSeconds: Double?
        package var stateDirectory: String?
    }
    package struct Ingest: Decodable, Equatable {
        package var bind: [String]?
        package var connect: [String]?
        package var topics: [String]?
        package var regions: [String]?
        package var indicators: Bool?
        package var maxBodyBytes: Int?
        package var receiveHighWaterMark: Int32?
    }
    package struct Endpoints: Decodable, Equatable {
        package var bind: [String]?
        package var connect: [String]?
        package var sendHighWaterMark: Int32?
    }
    package struct Pipeline: Decodable, Equatable {
        package var maxBatch: Int?
        package var queueCapacity: Int?
        package var tickIntervalMs: Int?
        package var checkpointEvery: Int?
        package var checkpointIntervalMs: Int?
    }

    package struct Curve: Decodable, Equatable {
        package struct Client: Decodable, Equatable {
            package var name: String
            package var publicKey: String?
            package var publicKeyFile: String?
            package var publish: [String]?
        }
        package var secretKeyFile: String
        package var clients: [Client]?
    }

    package struct HTTP: Decodable, Equatable {
        package var bind: String?
        package var webConfigFile: String?
        package var allowPlaintext: Bool?
        package var externalURL: String?
    }
    package struct Plugins: Decodable, Equatable {
        package var directory: String?
        package var required: [String]?
    }
    package struct Alertmanager: Decodable, Equatable {
        package var url: String?
        package var urls: [String]?
        package var timeoutSeconds: Double?
        package var resendSeconds: Double?
        package var batchSize: Int?
        package var queueCapacity: Int?
        package var resolvedRetentionSeconds: Double?
    }
    /// One rule's settings: its owner, how long to acknowledge, and its deadlines.
    package struct Rule: Decodable, Equatable {
        package var owner: String?
        package var ackWithin: String?
        package var deadlines: [String: String]?
    }

    package var logLevel: String?
    package var http: HTTP?
    package var plugins: Plugins?
    package var alertmanager: Alertmanager?
    package var curve: Curve?
    package var allowPlaintext: Bool?
    package var storage: Storage?
    package var ingest: Ingest?
    package var ack: Endpoints?
    package var publish: Endpoints?
    package var snapshot: Endpoints?
    package var pipeline: Pipeline?
    package var plans: [String]?
    package var clock: String?
    package var atRiskMarginPoints: Double?
    package var calendars: [String]?
    package var rules: [String: Rule]?

    /// Every key the file may hold, for a clear error on a misspelt one.
    package static let knownKeys: [String: Set<String>] = [
        "": [
            "logLevel", "storage", "ingest", "ack", "publish", "snapshot", "pipeline", "plans", "clock", "atRiskMarginPoints", "curve",
            "allowPlaintext", "http", "alertmanager", "plugins", "calendars", "rules",
        ],
        "plugins": ["directory", "required"],
        "http": ["bind", "webConfigFile", "allowPlaintext", "externalURL"],
        "alertmanager": ["url", "urls", "timeoutSeconds", "resendSeconds", "batchSize", "queueCapacity", "resolvedRetentionSeconds"],
        "curve": ["secretKeyFile", "clients"],
        "storage": ["path", "url", "synchronous", "retentionHours", "lockWaitSeconds", "stateDirectory"],
        "ingest": ["bind", "connect", "topics", "regions", "indicators", "maxBodyBytes", "receiveHighWaterMark"],
        "ack": ["bind", "sendHighWaterMark"],
        "publish": ["bind", "connect", "sendHighWaterMark"],
        "snapshot": ["bind", "sendHighWaterMark"],
        "pipeline": ["maxBatch", "queueCapacity", "tickIntervalMs", "checkpointEvery", "checkpointIntervalMs"],
    ]

    package struct Invalid: Error, CustomStringConvertible {
        package let description: String
    }

    /// Reads and checks a configuration file.
    package static func load(path: String) throws -> DaemonConfig {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw Invalid(description: "cannot read config file \(path): no such file or not readable")
        }
        let text = String(decoding: data, as: UTF8.self)
        do {
            if let tree = try Yams.load(yaml: text) {
                guard let root = tree as? [String: Any] else {
                    throw Invalid(description: "\(path): the top level must be a mapping of keys to values")
                }
                try checkKeys(root, section: "", file: path)
            }
            return try YAMLDecoder().decode(DaemonConfig.self, from: text)
        } catch let error as Invalid {
            throw error
        } catch let error as DecodingError {
            throw Invalid(description: "\(path): \(Self.describe(error))")
        } catch {
            throw Invalid(description: "\(path): not valid YAML: \(error)")
        }
    }

    /// Region prefixes a shard owns: 2 to 6 digits (a province, a city, a district).
    private static func checkRegions(_ prefixes: [String]) throws -> [String] {
        for p in prefixes where !(2...6).contains(p.count) || !p.allSatisfy(\.isASCII) || !p.allSatisfy(\.isNumber) {
            throw Invalid(description: "ingest.regions (--ingest-region): '\(p)' is not a region prefix (2 to 6 digits, e.g. 3703 for Zibo)")
        }
        return prefixes
    }

    private static func checkKeys(_ map: [String: Any], section: String, file: String) throws {
        if section == "rules" {
            // Rule names are open (plugins add rules); each rule's own keys are not.
            for (rule, value) in map {
                guard let settings = value as? [String: Any] else {
                    throw Invalid(description: "\(file): 'rules.\(rule)' must be a mapping (owner, ackWithin, deadlines)")
                }
                for key in settings.keys.sorted() where !["owner", "ackWithin", "deadlines"].contains(key) {
                    throw Invalid(description: "\(file): unknown key 'rules.\(rule).\(key)' (known here: ackWithin, deadlines, owner)")
                }
            }
            return
        }
        guard let known = knownKeys[section] else { return }
        for key in map.keys.sorted() {
            let path = section.isEmpty ? key : "\(section).\(key)"
            guard known.contains(key) else {
                throw Invalid(description: "\(file): unknown key '\(path)' (known here: \(known.sorted().joined(separator: ", ")))")
            }
            if let nested = map[key] as? [String: Any] { try checkKeys(nested, section: path, file: file) }
        }
    }

    private static func describe(_ error: DecodingError) -> String {
        func path(_ context: DecodingError.Context) -> String {
            context.codingPath.map(\.stringValue).joined(separator: ".")
        }
        switch error {
        case .typeMismatch(let type, let c): return "'\(path(c))' should be \(type): \(c.debugDescription)"
        case .valueNotFound(let type, let c): return "'\(path(c))' needs a \(type) value"
        case .keyNotFound(let key, let c): return "'\(path(c))' lacks '\(key.stringValue)'"
        case .dataCorrupted(let c): return "'\(path(c))': \(c.debugDescription)"
        @unknown default: return "\(error)"
        }
    }

    /// Reads `rules:` into the alert policy's overrides and the rule deadlines, checked
    /// against the rules the loaded handlers declare (`manifests`): a rule's deadlines are
    /// those its handler names.
    package static func rules(_ rules: [String: Rule], manifests: [HandlerManifest]) throws -> (AlertPolicy, RuleTimings) {
        var owners: [String: AlertPolicy.Rule] = [:]
        var timings: [String: RuleDuration] = [:]
        let declared = AlertPolicy(manifests: manifests)
        let specs = Dictionary((AlertPolicy.hostRules + manifests.flatMap(\.rules)).map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
        func duration(_ text: String, _ path: String) throws -> RuleDuration {
            guard let d = RuleDuration(text: text) else {
                throw Invalid(
                    description:
                        "\(path): '\(text)' is not a duration: write e.g. 24 hours, 30 days or 5 workingDays (1 to \(RuleDuration.maxAmount))")
            }
            return d
        }
        for (name, rule) in rules.sorted(by: { $0.key < $1.key }) {
            guard let spec = specs[name] else {
                throw Invalid(
                    description: "rules.\(name): no loaded handler has this rule (known: \(specs.keys.sorted().joined(separator: ", ")))")
            }
            let base = declared.rule(name)
            var owner = base.owner
            if let text = rule.owner {
                guard let level = OwnerLevel(rawValue: text) else {
                    throw Invalid(description: "rules.\(name).owner: '\(text)' is not school, district or city")
                }
                owner = level
            }
            let ackWithin = try rule.ackWithin.map { try duration($0, "rules.\(name).ackWithin") } ?? base.ackWithin
            if rule.owner != nil || rule.ackWithin != nil { owners[name] = AlertPolicy.Rule(owner: owner, ackWithin: ackWithin) }
            for (deadline, text) in rule.deadlines ?? [:] {
                guard spec.deadlines[deadline] != nil else {
                    let list = spec.deadlines.isEmpty ? "none" : spec.deadlines.keys.sorted().joined(separator: ", ")
                    throw Invalid(description: "rules.\(name).deadlines.\(deadline): \(name) has no such deadline (it has: \(list))")
                }
                timings["\(name).\(deadline)"] = try duration(text, "rules.\(name).deadlines.\(deadline)")
            }
        }
        return (AlertPolicy(manifests: manifests, overrides: owners), RuleTimings(timings))
    }

    /// The longest retention, about 114 years: keeping for ever is 0.
    package static let maxRetentionHours: Double = 1_000_000

    /// Applies this file over the embedded defaults.
    package func apply(to runtime: inout RuntimeConfig) throws {
        if let v = storage?.path { runtime.journalPath = v }
        if let v = storage?.url {
            guard v.hasPrefix("postgres://") || v.hasPrefix("postgresql://") else {
                throw Invalid(description: "storage.url must be a postgres:// URL, not '\(v)' (a SQLite file goes in storage.path)")
            }
            runtime.journalPath = v
        }
        if let v = storage?.synchronous {
            switch v.lowercased() {
            case "full": runtime.synchronousFull = true
            case "normal": runtime.synchronousFull = false
            default: throw Invalid(description: "storage.synchronous must be full or normal, not '\(v)'")
            }
        }
        if let v = storage?.retentionHours {
            // A bound, so that no value (1e300, .inf) reaches the conversion to milliseconds.
            guard v >= 0, v <= Self.maxRetentionHours else {
                throw Invalid(
                    description:
                        "storage.retentionHours (--retention-hours) must be 0 (keep for ever) up to \(Int(Self.maxRetentionHours)) hours, not \(v)")
            }
            runtime.retentionMilliseconds = Int64(v * 3_600_000)
        }
        if let v = storage?.lockWaitSeconds { runtime.journalLockWaitSeconds = v }
        if let v = ingest?.bind { runtime.ingestBind = v }
        if let v = ingest?.connect { runtime.ingestConnect = v }
        if let v = ingest?.topics { runtime.ingestTopics = v }
        if let v = ingest?.regions { runtime.ingestRegions = try Self.checkRegions(v) }
        if let v = ingest?.indicators { runtime.acceptsIndicators = v }
        if let v = ingest?.maxBodyBytes { runtime.maxBodyBytes = v }
        if let v = ingest?.receiveHighWaterMark { runtime.receiveHighWaterMark = v }
        if let v = ack?.bind { runtime.ackBind = v }
        if let v = publish?.bind { runtime.publishBind = v }
        if let v = publish?.connect { runtime.publishConnect = v }
        if let v = publish?.sendHighWaterMark { runtime.sendHighWaterMark = v }
        if let v = snapshot?.bind { runtime.snapshotBind = v }
        if let v = snapshot?.sendHighWaterMark { runtime.snapshotSendHighWaterMark = v }
        if let v = ack?.sendHighWaterMark { runtime.ackSendHighWaterMark = v }
        if let v = storage?.stateDirectory { runtime.stateDirectory = v }
        if let v = allowPlaintext { runtime.allowPlaintext = v }
        if let curve { runtime.curve = try curve.load() }
        if let v = pipeline?.maxBatch { runtime.maxBatch = v }
        if let v = pipeline?.queueCapacity { runtime.queueCapacity = v }
        if let v = pipeline?.tickIntervalMs { runtime.tickIntervalMilliseconds = v }
        if let v = pipeline?.checkpointEvery { runtime.checkpointEvery = v }
        if let v = pipeline?.checkpointIntervalMs { runtime.checkpointIntervalMilliseconds = v }
    }
}

extension DaemonConfig.Curve {
    /// Reads the key files and checks every key.
    func load() throws -> CurveConfig {
        let secret = try Self.readKey(secretKeyFile, what: "curve.secretKeyFile")
        if let attributes = try? FileManager.default.attributesOfItem(atPath: secretKeyFile),
            let mode = attributes[.posixPermissions] as? Int, mode & 0o077 != 0
        {
            throw DaemonConfig.Invalid(
                description: "curve.secretKeyFile \(secretKeyFile) is readable by others (mode \(String(mode, radix: 8))); chmod 600 it")
        }
        var names = Set<String>()
        var clients: [CurveConfig.Client] = []
        for (i, c) in (self.clients ?? []).enumerated() {
            let path = "curve.clients[\(i)]"
            guard names.insert(c.name).inserted else { throw DaemonConfig.Invalid(description: "\(path): the name '\(c.name)' is used twice") }
            let key: String
            if let k = c.publicKey {
                key = k
            } else if let file = c.publicKeyFile {
                key = try Self.readKey(file, what: "\(path).publicKeyFile")
            } else {
                throw DaemonConfig.Invalid(description: "\(path) ('\(c.name)') needs publicKey or publicKeyFile")
            }
            guard CurveKeyPair.isValidKey(key) else {
                throw DaemonConfig.Invalid(description: "\(path).publicKey of '\(c.name)' is not a 40-character Z85 key")
            }
            clients.append(CurveConfig.Client(name: c.name, publicKey: key, publish: c.publish ?? []))
        }
        return CurveConfig(secretKey: secret, clients: clients)
    }

    static func readKey(_ path: String, what: String) throws -> String {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw DaemonConfig.Invalid(description: "\(what): cannot read \(path)")
        }
        let key = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        guard CurveKeyPair.isValidKey(key) else {
            throw DaemonConfig.Invalid(description: "\(what): \(path) does not hold a 40-character Z85 key")
        }
        return key
    }
}

extension DaemonConfig {
    /// A log level by name (`logLevel:` or `--log-level`), refused by name otherwise.
    package static func logLevel(_ text: String) throws -> Logger.Level {
        guard let level = Logger.Level(rawValue: text.lowercased()) else {
            throw Invalid(description: "log level '\(text)' is not one of trace, debug, info, notice, warning, error, critical")
        }
        return level
    }
}
