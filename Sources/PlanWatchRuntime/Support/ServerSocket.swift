import ZeroMQ

/// The daemon's server sockets, set up one way: options, CURVE when configured, then the
/// endpoints bound (wildcard ports resolved, in ``ZMQSocket/boundEndpoints``) and connected.
enum ServerSocket {
    static func make(
        _ type: SocketType, context: ZMQContext, curve: CurveConfig?, bind: [String], connect: [String] = [],
        options: (ZMQSocket) throws -> Void = { _ in }
    ) throws -> ZMQSocket {
        let socket = try ZMQSocket(context: context, type: type)
        try options(socket)
        if let curve { try socket.makeCurveServer(secretKey: curve.secretKey) }
        for endpoint in bind { try socket.bind(endpoint) }
        for endpoint in connect { try socket.connect(endpoint) }
        return socket
    }
}
