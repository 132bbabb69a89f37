import CZeroMQ

/// CURVE keys, written in Z85 (40 printable characters for 32 bytes).
public struct CurveKeyPair: Sendable, Equatable {
    public let publicKey: String
    public let secretKey: String

    /// A new random key pair.
    public static func generate() throws -> CurveKeyPair {
        var p = [CChar](repeating: 0, count: 41)
        var s = [CChar](repeating: 0, count: 41)
        guard zmq_curve_keypair(&p, &s) == 0 else { throw ZMQError(operation: "zmq_curve_keypair") }
        return CurveKeyPair(publicKey: string(p), secretKey: string(s))
    }

    /// The pair of a secret key (the public key derived from it); nil when `secretKey` is not Z85.
    public init?(secretKey: String) {
        guard secretKey.utf8.count == 40 else { return nil }
        var p = [CChar](repeating: 0, count: 41)
        guard zmq_curve_public(&p, secretKey) == 0 else { return nil }
        self.init(publicKey: string(p), secretKey: secretKey)
    }

    init(publicKey: String, secretKey: String) {
        self.publicKey = publicKey
        self.secretKey = secretKey
    }

    /// True when `key` is 40 Z85 characters that decode to 32 bytes.
    public static func isValidKey(_ key: String) -> Bool {
        guard key.utf8.count == 40 else { return false }
        var bytes = [UInt8](repeating: 0, count: 32)
        return zmq_z85_decode(&bytes, key) != nil
    }

    /// The Z85 text of 32 raw key bytes (as ZAP hands them over).
    public static func z85(_ raw: [UInt8]) -> String? {
        guard raw.count == 32 else { return nil }
        var out = [CChar](repeating: 0, count: 41)
        guard zmq_z85_encode(&out, raw, 32) != nil else { return nil }
        return string(out)
    }
}

private func string(_ chars: [CChar]) -> String {
    String(decoding: chars.prefix(while: { $0 != 0 }).map { UInt8(bitPattern: $0) }, as: UTF8.self)
}

extension ZMQSocket {
    /// Makes this socket a CURVE server with `secretKey`, authenticated through ZAP in `domain`.
    /// Call before `bind`.
    public func makeCurveServer(secretKey: String, domain: String = "planwatch") throws {
        try set(.curveServer(true))
        try set(.curveSecretKey(secretKey))
        try set(.zapDomain(domain))
    }

    /// Makes this socket a CURVE client of the server with `serverKey`. Call before `connect`.
    public func makeCurveClient(keys: CurveKeyPair, serverKey: String) throws {
        try set(.curveServerKey(serverKey))
        try set(.curvePublicKey(keys.publicKey))
        try set(.curveSecretKey(keys.secretKey))
    }
}
