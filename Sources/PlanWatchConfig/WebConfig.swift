import Foundation
import Yams

/// Who may use the HTTP side, in the format operators know from Prometheus and Alertmanager
/// (their exporter-toolkit web config file):
///
/// ```yaml
/// tls_server_config:
///   cert_file: /etc/planwatch/tls/server.crt
///   key_file: /etc/planwatch/tls/server.key
/// basic_auth_users:
///   wangmin: $2y$10$...     # bcrypt, e.g. from `htpasswd -nBC 10 wangmin`
/// ```
///
/// With users, every request but `/healthz` and `/readyz` needs one of them, and an
/// acknowledgement is recorded under that user's name. Without users the HTTP side is
/// read-only: nobody can acknowledge over it.
public struct WebConfig: Sendable {
    public struct TLS: Sendable {
        public var certFile: String
        public var keyFile: String
    }

    public var tls: TLS?
    /// Users and their bcrypt hashes.
    public var users: [String: String]

    public init(tls: TLS? = nil, users: [String: String] = [:]) {
        self.tls = tls
        self.users = users
    }

    /// No file: plain HTTP, read-only.
    public static let none = WebConfig(tls: nil, users: [:])

    struct Invalid: Error, CustomStringConvertible { let description: String }

    /// Reads and checks a web config file.
    public static func load(path: String) throws -> WebConfig {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw Invalid(description: "cannot read the web config file \(path)")
        }
        let tree: Any?
        do { tree = try Yams.load(yaml: String(decoding: data, as: UTF8.self)) } catch {
            throw Invalid(description: "\(path): not valid YAML: \(error)")
        }
        guard let root = (tree ?? [String: Any]()) as? [String: Any] else {
            throw Invalid(description: "\(path): the top level must be a mapping")
        }
        for key in root.keys.sorted() where !["tls_server_config", "basic_auth_users", "http_server_config"].contains(key) {
            throw Invalid(description: "\(path): unknown key '\(key)' (known: basic_auth_users, tls_server_config)")
        }
        var config = WebConfig.none
        if let tls = root["tls_server_config"] {
            guard let map = tls as? [String: Any], let cert = map["cert_file"] as? String, let key = map["key_file"] as? String else {
                throw Invalid(description: "\(path): tls_server_config needs cert_file and key_file")
            }
            for other in map.keys.sorted() where !["cert_file", "key_file"].contains(other) {
                throw Invalid(description: "\(path): tls_server_config.\(other) is not supported (cert_file and key_file are)")
            }
            let base = URL(fileURLWithPath: path).deletingLastPathComponent()
            func resolve(_ file: String) -> String { file.hasPrefix("/") ? file : base.appendingPathComponent(file).path }
            config.tls = TLS(certFile: resolve(cert), keyFile: resolve(key))
            for file in [config.tls!.certFile, config.tls!.keyFile] where !FileManager.default.isReadableFile(atPath: file) {
                throw Invalid(description: "\(path): cannot read \(file)")
            }
        }
        if let users = root["basic_auth_users"] {
            guard let map = users as? [String: Any] else {
                throw Invalid(description: "\(path): basic_auth_users must map user names to bcrypt hashes")
            }
            for (user, value) in map {
                guard let hash = value as? String, hash.range(of: #"^\$2[aby]\$\d\d\$[./A-Za-z0-9]{53}$"#, options: .regularExpression) != nil
                else {
                    throw Invalid(description: "\(path): basic_auth_users.\(user) is not a bcrypt hash (make one with htpasswd -nBC 10 \(user))")
                }
                guard !user.isEmpty, !user.contains(":") else {
                    throw Invalid(description: "\(path): '\(user)' cannot be a user name (empty, or with ':')")
                }
                config.users[user] = hash
            }
        }
        return config
    }
}
