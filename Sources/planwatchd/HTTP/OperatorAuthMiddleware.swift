import Foundation
import HTTPTypes
import Hummingbird

/// Who may do what over HTTP:
/// - with users in the web config, every request but `/healthz` and `/readyz` needs HTTP basic
///   authentication as one of them (401 with a `WWW-Authenticate` challenge otherwise);
/// - without users, the HTTP side is read-only: a request that would change something is
///   refused (403), saying how to configure users;
/// - a request that changes something must not come from another site: it must be JSON
///   (a cross-site form or `text/plain` post cannot be), and an `Origin`, when the browser
///   sends one, must be this server.
struct OperatorAuthMiddleware: RouterMiddleware {
    typealias Context = OperatorContext
    let passwords: PasswordCheck

    static let open: Set<String> = ["/healthz", "/readyz"]
    static let secFetchSite = HTTPField.Name("Sec-Fetch-Site")!

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var context = context
        let changes = request.method != .get && request.method != .head && request.method != .options
        if passwords.hasUsers && !Self.open.contains(request.uri.path) {
            guard let (user, password) = Self.credentials(request), passwords.check(user: user, password: password) else {
                return Response(
                    status: .unauthorized,
                    headers: [.wwwAuthenticate: "Basic realm=\"planwatchd\", charset=\"UTF-8\"", .contentType: "text/plain; charset=utf-8"],
                    body: .init(byteBuffer: ByteBuffer(string: "authentication required: a user of the web config\n")))
            }
            context.operatorName = user
        }
        if changes {
            guard passwords.hasUsers else {
                return HTTPServer.text(
                    .forbidden,
                    "read-only: this daemon has no operators; set basic_auth_users in a web config (--web-config-file) to acknowledge over HTTP\n")
            }
            if let refusal = Self.crossSite(request) { return HTTPServer.text(.forbidden, refusal + "\n") }
        }
        return try await next(request, context)
    }

    /// User and password of a `Basic` authorization header.
    static func credentials(_ request: Request) -> (String, String)? {
        guard let header = request.headers[.authorization], header.lowercased().hasPrefix("basic "),
            let decoded = Data(base64Encoded: String(header.dropFirst(6)).trimmingCharacters(in: .whitespaces)),
            let text = String(data: decoded, encoding: .utf8), let colon = text.firstIndex(of: ":")
        else { return nil }
        return (String(text[..<colon]), String(text[text.index(after: colon)...]))
    }

    /// Why a state-changing request looks cross-site; nil when it does not.
    static func crossSite(_ request: Request) -> String? {
        let type = request.headers[.contentType]?.lowercased() ?? ""
        guard type.hasPrefix("application/json") else {
            return "cross-site protection: a request that changes something must be Content-Type: application/json"
        }
        if request.headers[Self.secFetchSite]?.lowercased() == "cross-site" {
            return "cross-site protection: this request came from another site"
        }
        if let origin = request.headers[.origin], origin != "null" {
            let host = request.head.authority ?? ""
            let originHost = URLComponents(string: origin).map { c in c.port.map { "\(c.host ?? ""):\($0)" } ?? (c.host ?? "") } ?? ""
            guard !host.isEmpty, originHost == host else {
                return "cross-site protection: Origin \(origin) is not this server (\(host))"
            }
        } else if request.headers[.origin] == "null" {
            return "cross-site protection: an opaque Origin (null) may not change anything"
        }
        return nil
    }
}
