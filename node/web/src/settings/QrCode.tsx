import qrcode from "qrcode-generator";
import { useMemo } from "preact/hooks";

/** A QR code of a string of digits, drawn as an inline SVG (one path of dark modules) with a
 * quiet zone of four modules. */
export function QrCode({ data, label }: { data: string; label: string }) {
  const { size, path } = useMemo(() => {
    const qr = qrcode(0, "M");
    qr.addData(data, /^\d+$/.test(data) ? "Numeric" : "Byte");
    qr.make();
    const n = qr.getModuleCount();
    let d = "";
    for (let r = 0; r < n; r++) {
      for (let c = 0; c < n; c++) {
        if (qr.isDark(r, c)) d += `M${c + 4} ${r + 4}h1v1h-1z`;
      }
    }
    return { size: n + 8, path: d };
  }, [data]);
  return (
    <svg class="safety-qr" viewBox={`0 0 ${size} ${size}`} role="img" aria-label={label} shape-rendering="crispEdges">
      <rect width={size} height={size} fill="#fff" />
      <path d={path} fill="#000" />
    </svg>
  );
}
