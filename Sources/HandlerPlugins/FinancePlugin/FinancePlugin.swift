// The Finance handler as a dynamic plugin: `swift build` makes libFinancePlugin.so; put it in
// planwatchd's plugin directory (plugins.directory / --plugin-dir) and it is loaded at start.
import Finance
import HandlerKit
import HandlerPluginABI

@_cdecl("planwatch_plugin_handlerkit_version")
public func pluginHandlerKitVersion() -> UnsafePointer<CChar> { HandlerKitPlugin.version }

@_cdecl("planwatch_plugin_call")
public func pluginCall(
    _ op: Int32, _ instance: UnsafeMutableRawPointer?, _ input: UnsafePointer<UInt8>?, _ count: Int,
    _ output: UnsafeMutablePointer<UnsafeMutablePointer<UInt8>?>?, _ outputCount: UnsafeMutablePointer<Int>?
) -> UnsafeMutableRawPointer? {
    HandlerKitPlugin.call(FinanceHandler(), op, instance, input, count, output, outputCount)
}
