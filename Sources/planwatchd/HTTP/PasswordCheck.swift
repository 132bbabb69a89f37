import Foundation
import HummingbirdBcrypt
import NIOSSL
import PlanWatchConfig
import Synchronization

extension WebConfig {
    /// The TLS configuration of the server, when the file sets one.
    func serverTLS() throws -> TLSConfiguration? {
        guard let tls else { return nil }
        let certificates = try NIOSSLCertificate.fromPEMFile(tls.certFile).map { NIOSSLCertificateSource.certificate($0) }
        let key = try NIOSSLPrivateKey(file: tls.keyFile, format: .pem)
        return TLSConfiguration.makeServerConfiguration(certificateChain: certificates, privateKey: .privateKey(key))
    }
}

/// Checks users' passwords against their bcrypt hashes; a password once verified is
/// remembered (as its SHA-free cache key: user and password, in memory only), so that the
/// slow hash runs once per user and password, not per request — as exporter-toolkit does.
final class PasswordCheck: Sendable {
    private let users: [String: String]
    private let verified = Mutex<Set<String>>([])

    init(users: [String: String]) { self.users = users }

    var hasUsers: Bool { !users.isEmpty }

    func check(user: String, password: String) -> Bool {
        guard let hash = users[user] else { return false }
        let key = "\(user.utf8.count):\(user)\(password)"
        if verified.withLock({ $0.contains(key) }) { return true }
        guard Bcrypt.verify(password, hash: hash) else { return false }
        verified.withLock { _ = $0.insert(key) }
        return true
    }
}
