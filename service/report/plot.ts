// Every plot l7 draws (trace stats, replay reports, the paper figures) is a Vega-Lite
// spec rendered to SVG here, headless, by the Vega library: one place to change the look.
import * as vega from 'vega'
import * as vegaLite from 'vega-lite'

export type VegaLiteSpec = vegaLite.TopLevelSpec

export async function renderSvg(spec: VegaLiteSpec): Promise<string> {
  const compiled = vegaLite.compile(spec).spec
  const view = new vega.View(vega.parse(compiled), { renderer: 'none' })
  try {
    return await view.toSVG()
  } finally {
    view.finalize()
  }
}
