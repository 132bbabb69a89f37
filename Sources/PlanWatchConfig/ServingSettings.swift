import Foundation
import PlanWatchRuntime

/// Where the daemon's alerts go in Prometheus' Alertmanager, and how hard it tries.
public struct AlertmanagerSettings: Sendable, Equatable {
    public var urls: [URL]
    public var timeoutSeconds: Double = 10
    public var resendSeconds: Double = 60
    public var batchSize = 64
    public var queueCapacity = 10_000
    public var resolvedRetentionSeconds: Double = 15 * 60
    /// Where operators open the console: each alert's `generatorURL` opens it there.
    public var externalURL: String?

    public init(urls: [URL]) { self.urls = urls }
}

/// What `planwatchd` serves beside the bus — HTTP with its web config, and the Alertmanager
/// bridge — read from the config file (with the flags written into it: ``DaemonSettings``)
/// over the defaults, and checked.
public struct ServingSettings: Sendable {
    /// host and port; nil when HTTP is off.
    public var http: (host: String, port: Int)?
    public var web: WebConfig
    public var alertmanager: AlertmanagerSettings

    public struct Invalid: Error, CustomStringConvertible { public let description: String }

    package static func resolve(file: DaemonConfig?) throws -> ServingSettings {
        let httpText = file?.http?.bind ?? "127.0.0.1:8080"
        var http: (host: String, port: Int)?
        if httpText != "off" {
            guard let colon = httpText.lastIndex(of: ":"), let port = Int(httpText[httpText.index(after: colon)...]), (0...65_535).contains(port)
            else {
                throw Invalid(description: "HTTP bind '\(httpText)' is not host:port (or off)")
            }
            http = (String(httpText[..<colon]), port)
        }
        let web = try file?.http?.webConfigFile.map(WebConfig.load(path:)) ?? .none
        if let http, !RuntimeConfig.isLoopback(http.host), web.tls == nil || web.users.isEmpty, file?.http?.allowPlaintext != true {
            throw Invalid(
                description: "refusing to serve HTTP on \(http.host) without TLS and operators: the console shows pupils' records. "
                    + "Give a web config with tls_server_config and basic_auth_users (--web-config-file), bind loopback, "
                    + "or set http.allowPlaintext: true")
        }
        let texts = (file?.alertmanager?.url.map { [$0] } ?? []) + (file?.alertmanager?.urls ?? [])
        let urls = try texts.map { text -> URL in
            guard let url = URL(string: text), url.scheme == "http" || url.scheme == "https", url.host != nil else {
                throw Invalid(description: "alertmanager URL '\(text)' is not an http(s) URL")
            }
            return url
        }
        var bridge = AlertmanagerSettings(urls: urls)
        if let am = file?.alertmanager {
            bridge.timeoutSeconds = am.timeoutSeconds ?? bridge.timeoutSeconds
            bridge.resendSeconds = am.resendSeconds ?? bridge.resendSeconds
            bridge.batchSize = am.batchSize ?? bridge.batchSize
            bridge.queueCapacity = am.queueCapacity ?? bridge.queueCapacity
            bridge.resolvedRetentionSeconds = am.resolvedRetentionSeconds ?? bridge.resolvedRetentionSeconds
        }
        for (name, value) in [
            ("timeoutSeconds", bridge.timeoutSeconds), ("resendSeconds", bridge.resendSeconds),
            ("resolvedRetentionSeconds", bridge.resolvedRetentionSeconds),
        ] where !(value > 0 && value <= 86_400) {
            throw Invalid(description: "alertmanager.\(name) must be more than 0 and at most 86400 seconds, not \(value)")
        }
        guard bridge.batchSize >= 1, bridge.batchSize <= 10_000, bridge.queueCapacity >= bridge.batchSize, bridge.queueCapacity <= 10_000_000 else {
            throw Invalid(description: "alertmanager.batchSize must be 1–10000 and queueCapacity at least batchSize (at most 10000000)")
        }
        bridge.externalURL =
            file?.http?.externalURL ?? http.map { "\(web.tls == nil ? "http" : "https")://\($0.host):\($0.port)" }
        return ServingSettings(http: http, web: web, alertmanager: bridge)
    }
}
