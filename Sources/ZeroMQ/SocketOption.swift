import CZeroMQ

/// A socket option that can be set with ``ZMQSocket/set(_:)``.
public enum SocketOption: Sendable {
    /// Messages queued for sending per peer before the socket drops (PUB) or blocks.
    case sendHighWaterMark(Int32)
    /// Messages queued on receipt per peer.
    case receiveHighWaterMark(Int32)
    /// How long unsent messages are kept after close, in milliseconds (0: drop at once).
    case linger(milliseconds: Int32)
    /// Inbound messages larger than this many bytes disconnect the peer (-1: no limit).
    case maxMessageSize(Int64)
    /// SUB: receive messages whose first frame starts with this prefix.
    case subscribe(String)
    /// SUB: stop receiving a prefix.
    case unsubscribe(String)
    /// The identity a ROUTER peer sees for this socket.
    case routingId([UInt8])
    /// ROUTER: fail with `EHOSTUNREACH` instead of dropping unroutable messages.
    case routerMandatory(Bool)
    /// Queue messages only to completed connections.
    case immediate(Bool)
    /// Blocking receive gives up after this many milliseconds (-1: wait for ever).
    case receiveTimeout(milliseconds: Int32)
    /// Blocking send gives up after this many milliseconds (-1: wait for ever).
    case sendTimeout(milliseconds: Int32)
    /// XPUB: pass every subscription upstream, not only new ones.
    case xpubVerbose(Bool)
    /// XPUB: a send that some subscriber has no room for fails with `EAGAIN` (sent to no one)
    /// instead of dropping the message for that subscriber.
    case xpubNoDrop(Bool)
    /// Makes this socket a CURVE server (true) with ``curveSecretKey(_:)`` set.
    case curveServer(Bool)
    /// This socket's CURVE public key, 40 Z85 characters.
    case curvePublicKey(String)
    /// This socket's CURVE secret key, 40 Z85 characters.
    case curveSecretKey(String)
    /// A CURVE client's view of the server's public key, 40 Z85 characters.
    case curveServerKey(String)
    /// The ZAP domain for authentication of this socket's peers.
    case zapDomain(String)
}

extension SocketOption {
    func apply(to socket: UnsafeMutableRawPointer) -> Int32 {
        switch self {
        case .sendHighWaterMark(let v): return setInt(socket, ZMQ_SNDHWM, v)
        case .receiveHighWaterMark(let v): return setInt(socket, ZMQ_RCVHWM, v)
        case .linger(let v): return setInt(socket, ZMQ_LINGER, v)
        case .maxMessageSize(let v):
            var value = v
            return zmq_setsockopt(socket, ZMQ_MAXMSGSIZE, &value, MemoryLayout<Int64>.size)
        case .subscribe(let prefix): return setBytes(socket, ZMQ_SUBSCRIBE, Array(prefix.utf8))
        case .unsubscribe(let prefix): return setBytes(socket, ZMQ_UNSUBSCRIBE, Array(prefix.utf8))
        case .routingId(let id): return setBytes(socket, ZMQ_ROUTING_ID, id)
        case .routerMandatory(let on): return setInt(socket, ZMQ_ROUTER_MANDATORY, on ? 1 : 0)
        case .immediate(let on): return setInt(socket, ZMQ_IMMEDIATE, on ? 1 : 0)
        case .receiveTimeout(let v): return setInt(socket, ZMQ_RCVTIMEO, v)
        case .sendTimeout(let v): return setInt(socket, ZMQ_SNDTIMEO, v)
        case .xpubVerbose(let on): return setInt(socket, ZMQ_XPUB_VERBOSE, on ? 1 : 0)
        case .xpubNoDrop(let on): return setInt(socket, ZMQ_XPUB_NODROP, on ? 1 : 0)
        case .curveServer(let on): return setInt(socket, ZMQ_CURVE_SERVER, on ? 1 : 0)
        case .curvePublicKey(let key): return setBytes(socket, ZMQ_CURVE_PUBLICKEY, Array(key.utf8))
        case .curveSecretKey(let key): return setBytes(socket, ZMQ_CURVE_SECRETKEY, Array(key.utf8))
        case .curveServerKey(let key): return setBytes(socket, ZMQ_CURVE_SERVERKEY, Array(key.utf8))
        case .zapDomain(let domain): return setBytes(socket, ZMQ_ZAP_DOMAIN, Array(domain.utf8))
        }
    }

    var name: String {
        switch self {
        case .sendHighWaterMark: "ZMQ_SNDHWM"
        case .receiveHighWaterMark: "ZMQ_RCVHWM"
        case .linger: "ZMQ_LINGER"
        case .maxMessageSize: "ZMQ_MAXMSGSIZE"
        case .subscribe: "ZMQ_SUBSCRIBE"
        case .unsubscribe: "ZMQ_UNSUBSCRIBE"
        case .routingId: "ZMQ_ROUTING_ID"
        case .routerMandatory: "ZMQ_ROUTER_MANDATORY"
        case .immediate: "ZMQ_IMMEDIATE"
        case .receiveTimeout: "ZMQ_RCVTIMEO"
        case .sendTimeout: "ZMQ_SNDTIMEO"
        case .xpubVerbose: "ZMQ_XPUB_VERBOSE"
        case .xpubNoDrop: "ZMQ_XPUB_NODROP"
        case .curveServer: "ZMQ_CURVE_SERVER"
        case .curvePublicKey: "ZMQ_CURVE_PUBLICKEY"
        case .curveSecretKey: "ZMQ_CURVE_SECRETKEY"
        case .curveServerKey: "ZMQ_CURVE_SERVERKEY"
        case .zapDomain: "ZMQ_ZAP_DOMAIN"
        }
    }
}

private func setInt(_ socket: UnsafeMutableRawPointer, _ option: Int32, _ value: Int32) -> Int32 {
    var v = value
    return zmq_setsockopt(socket, option, &v, MemoryLayout<Int32>.size)
}

private func setBytes(_ socket: UnsafeMutableRawPointer, _ option: Int32, _ bytes: [UInt8]) -> Int32 {
    bytes.withUnsafeBytes { zmq_setsockopt(socket, option, $0.baseAddress, $0.count) }
}
