// The volume viewer, on niivue (WebGL2): the (LPS) volume the page holds as the background, the
// label volume as an overlay with one colour per object, in a multiplanar layout with a 3-D render
// (or one plane, or the render alone), crosshair, zoom / pan and the radiological or neurological
// convention. The app's own gestures (prompts, window / level) are decided per pointer press: on
// the prompt plane niivue only reports the drag, elsewhere it navigates. Positions go through
// millimetres: the viewer's volume has the affine diag(−sx, −sy, sz), i.e. voxel axes L, P, S.
import { DRAG_MODE, MULTIPLANAR_TYPE, Niivue, NVImage, SHOW_RENDER, SLICE_TYPE, type MouseEventConfig } from '@niivue/niivue';
import { createVolume, writeNifti, type Axis, type VoxelData } from '../src/volume/index.js';
import type { Vec3 } from './slice-points.js';

export type Rgb = [number, number, number];

/** Multiplanar (three planes and the 3-D render), the prompt plane alone, or the 3-D render alone. */
export type Layout = 'multiplanar' | 'single' | 'render';

/** What a pointer press on a spot of the canvas does. */
export type TileKind = 'prompt' | 'navigate' | 'render' | 'none';

export interface ViewerVolume {
  dims: Vec3;
  spacing: Vec3;
  data: VoxelData;
}

const AXIS_SLICE: Record<Axis, SLICE_TYPE> = { axial: SLICE_TYPE.AXIAL, coronal: SLICE_TYPE.CORONAL, sagittal: SLICE_TYPE.SAGITTAL };
const SLICE_AXIS: Partial<Record<number, Axis>> = { [SLICE_TYPE.AXIAL]: 'axial', [SLICE_TYPE.CORONAL]: 'coronal', [SLICE_TYPE.SAGITTAL]: 'sagittal' };

/** niivue's mouse roles per kind of tile: prompts are the app's, navigation is niivue's. */
const GESTURES: Record<TileKind, MouseEventConfig> = {
  // Left press: niivue only tracks the drag (the app makes a point or a box of it).
  prompt: { leftButton: { primary: DRAG_MODE.callbackOnly, withShift: DRAG_MODE.callbackOnly, withCtrl: DRAG_MODE.pan }, rightButton: DRAG_MODE.none, centerButton: DRAG_MODE.pan },
  navigate: { leftButton: { primary: DRAG_MODE.crosshair, withShift: DRAG_MODE.crosshair, withCtrl: DRAG_MODE.pan }, rightButton: DRAG_MODE.none, centerButton: DRAG_MODE.pan },
  render: { leftButton: { primary: DRAG_MODE.crosshair, withShift: DRAG_MODE.crosshair, withCtrl: DRAG_MODE.crosshair }, rightButton: DRAG_MODE.none, centerButton: DRAG_MODE.pan },
  none: { leftButton: { primary: DRAG_MODE.none }, rightButton: DRAG_MODE.none, centerButton: DRAG_MODE.none },
};

const LABEL_OPACITY = 0.5;
const MIN_ZOOM = 0.5;
const MAX_ZOOM = 16;
/**
 * Shortest time between two window updates while the window is dragged: each one rebuilds the
 * volume texture and its 3-D gradients, which takes a while on a software GPU.
 */
const WINDOW_UPDATE_MS = 250;
/**
 * Canvas resolution (device pixels per CSS pixel) on a software WebGL renderer (SwiftShader,
 * llvmpipe), where a frame with the 3-D render takes about a second at full resolution.
 */
const SOFTWARE_PIXEL_RATIO = 0.5;

/** The WebGL renderer's name, when the browser tells it. */
function rendererName(gl: WebGL2RenderingContext): string {
  const info = gl.getExtension('WEBGL_debug_renderer_info');
  return String(info ? gl.getParameter(info.UNMASKED_RENDERER_WEBGL) : gl.getParameter(gl.RENDERER));
}

/** A volume as an in-memory NIfTI file for niivue (voxel axes L, P, S; origin at voxel 0). */
function niftiBuffer(dims: Vec3, spacing: Vec3, data: VoxelData): ArrayBuffer {
  const [sx, sy, sz] = spacing;
  const affine = [
    [-sx, 0, 0, 0],
    [0, -sy, 0, 0],
    [0, 0, sz, 0],
    [0, 0, 0, 1],
  ];
  const bytes = writeNifti(createVolume({ dims, data, affine }), { gzip: false });
  return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
}

export class VolumeViewer {
  readonly nv: Niivue;
  private background: NVImage | null = null;
  private labelImage: NVImage | null = null;
  private dims: Vec3 = [1, 1, 1];
  private spacing: Vec3 = [1, 1, 1];
  private axis: Axis = 'axial';
  private layoutMode: Layout = 'multiplanar';
  private radiologicalMode = true;
  /** The crosshair moved inside niivue (click, drag or wheel on a navigation tile). */
  onCursor: ((voxel: Vec3) => void) | null = null;
  /** After every frame niivue draws (the app draws its markers on top). */
  onDraw: (() => void) | null = null;
  /** The WebGL renderer (e.g. "SwiftShader" on a machine without a GPU). */
  renderer = '';
  /** niivue's own drawScene: draws a frame now. */
  private drawFrame: () => void = () => undefined;
  private frameQueued = false;
  /** A frame was issued and the GPU has not finished it (at most one is in flight). */
  private frameInFlight = false;
  private frameWanted = false;
  private frameCostMs = 0;
  private pendingWindow: [number, number] | null = null;
  private windowTimer: ReturnType<typeof setTimeout> | null = null;
  private windowUpdatedAt = -Infinity;

  private constructor(readonly canvas: HTMLCanvasElement) {
    this.nv = new Niivue({
      backColor: [0, 0, 0, 1],
      crosshairColor: [1, 0.84, 0, 0.55],
      crosshairWidth: 1,
      // No crosshair in the 3-D view: it would hide the masks' render behind it.
      show3Dcrosshair: false,
      isOrientCube: false,
      isColorbar: false,
      multiplanarShowRender: SHOW_RENDER.ALWAYS,
      multiplanarLayout: MULTIPLANAR_TYPE.GRID,
      isRadiologicalConvention: true,
      dragAndDropEnabled: false,
      selectionBoxColor: [1, 1, 1, 0],
      // Keys stay with the app (slices, undo); niivue's hot keys would change the layout behind it.
      viewModeHotKey: 'F24',
      clipPlaneHotKey: 'F23',
      cycleClipPlaneHotKey: 'F22',
      logLevel: 'error',
      loadingText: '',
    });
    this.nv.opts.mouseEventConfig = GESTURES.none;
  }

  static async create(canvas: HTMLCanvasElement): Promise<VolumeViewer> {
    const viewer = new VolumeViewer(canvas);
    const { nv } = viewer;
    await nv.attachToCanvas(canvas);
    viewer.renderer = rendererName(nv.gl);
    if (/swiftshader|llvmpipe|software/i.test(viewer.renderer)) {
      nv.opts.forceDevicePixelRatio = SOFTWARE_PIXEL_RATIO;
      nv.resizeListener();
    }
    nv.onLocationChange = () => viewer.onCursor?.(viewer.cursor);
    // niivue calls drawScene on itself after every change (several times for one user action,
    // e.g. mouse down and up); each call renders all tiles, the 3-D view included. Coalesce them
    // into one frame per animation frame: on a software GPU a frame is costly and shares the GPU
    // process with the model's WebGPU work.
    const draw = nv.drawScene.bind(nv);
    viewer.drawFrame = () => {
      draw();
      viewer.onDraw?.();
    };
    nv.drawScene = () => viewer.redraw();
    return viewer;
  }

  /**
   * Asks for a frame: at most one per animation frame, and none while the GPU still works on the
   * previous one (then one right after it), so frames never queue up in the GPU process.
   */
  redraw(): void {
    if (this.frameInFlight) {
      this.frameWanted = true;
      return;
    }
    if (this.frameQueued) return;
    this.frameQueued = true;
    requestAnimationFrame(() => {
      this.frameQueued = false;
      this.drawNow();
    });
  }

  /** Draws a frame now (e.g. to read its pixels in the same task). */
  drawNow(): void {
    const start = performance.now();
    this.drawFrame();
    this.watchFrame(start);
  }

  /** How long the GPU took for recent frames (ms, smoothed). */
  get frameMs(): number {
    return this.frameCostMs;
  }

  /** Marks the frame in flight until a fence after it signals, then measures it. */
  private watchFrame(start: number): void {
    const gl = this.nv.gl as WebGL2RenderingContext | undefined;
    const fence = gl?.fenceSync?.(gl.SYNC_GPU_COMMANDS_COMPLETE, 0);
    if (!gl || !fence) return;
    gl.flush();
    this.frameInFlight = true;
    const poll = () => {
      if (gl.getSyncParameter(fence, gl.SYNC_STATUS) !== gl.SIGNALED) {
        setTimeout(poll, 15);
        return;
      }
      gl.deleteSync(fence);
      const ms = performance.now() - start;
      this.frameCostMs = this.frameCostMs ? 0.7 * this.frameCostMs + 0.3 * ms : ms;
      this.frameInFlight = false;
      if (this.frameWanted) {
        this.frameWanted = false;
        this.redraw();
      }
    };
    setTimeout(poll, 15);
  }

  get hasVolume(): boolean {
    return this.background !== null;
  }

  /** Shows a new volume and its label map (shared: the viewer reads `labels` on refreshLabels). */
  async setVolume(volume: ViewerVolume, labels: Uint8Array, window: [number, number], colors: ReadonlyMap<number, Rgb>): Promise<void> {
    const { nv } = this;
    this.background = null;
    this.labelImage = null;
    this.pendingWindow = null;
    this.dims = [...volume.dims] as Vec3;
    this.spacing = [...volume.spacing] as Vec3;
    const load = (name: string, buffer: ArrayBuffer) =>
      NVImage.loadFromUrl({ url: name, name, buffer } as unknown as Parameters<typeof NVImage.loadFromUrl>[0]);
    const background = await load('volume.nii', niftiBuffer(this.dims, this.spacing, volume.data));
    background.colormap = 'gray';
    [background.cal_min, background.cal_max] = window;
    const labelImage = await load('labels.nii', niftiBuffer(this.dims, this.spacing, new Uint8Array(labels.length)));
    labelImage.img = labels; // the page's label volume itself: refreshLabels() re-uploads it
    labelImage.opacity = LABEL_OPACITY;
    labelImage.setColormapLabel(labelColormap(colors));
    // Both layers at once and one texture build (addVolume would rebuild everything per volume).
    nv.volumes = [background, labelImage];
    nv.back = background;
    nv.overlays = [labelImage];
    this.background = background;
    this.labelImage = labelImage;
    nv.scene.pan2Dxyzmm = [0, 0, 0, 1];
    nv.updateGLVolume();
    this.applyLayout();
  }

  /**
   * Display window: intensities `lower`…`upper` map to black…white. Applied at most every
   * WINDOW_UPDATE_MS (the last call always wins).
   */
  setWindow(lower: number, upper: number): void {
    if (!this.background) return;
    const next: [number, number] = [lower, upper > lower ? upper : lower + 1e-6];
    const shown = this.shownWindow;
    if (shown && shown[0] === next[0] && shown[1] === next[1]) return;
    this.pendingWindow = next;
    if (this.windowTimer) return;
    const wait = Math.max(0, this.windowUpdatedAt + WINDOW_UPDATE_MS - performance.now());
    this.windowTimer = setTimeout(() => {
      this.windowTimer = null;
      const w = this.pendingWindow;
      const bg = this.background;
      if (!w || !bg) return;
      this.pendingWindow = null;
      [bg.cal_min, bg.cal_max] = w;
      this.windowUpdatedAt = performance.now();
      this.nv.updateGLVolume();
    }, wait);
  }

  /** The window niivue shows (after pending updates). */
  get shownWindow(): [number, number] | null {
    const bg = this.background;
    return this.pendingWindow ?? (bg ? [bg.cal_min ?? NaN, bg.cal_max ?? NaN] : null);
  }

  /** One colour per label value (object id); label 0 stays transparent. */
  setLabelColors(colors: ReadonlyMap<number, Rgb>): void {
    const img = this.labelImage;
    if (!img) return;
    img.setColormapLabel(labelColormap(colors));
    this.refreshLabels();
  }

  /**
   * Re-uploads the label volume after the page changed it: only the overlay layer, so the
   * background (and its 3-D gradients) is not processed again.
   */
  refreshLabels(): void {
    if (!this.labelImage) return;
    this.nv.refreshLayers(this.labelImage, 1);
    this.nv.drawScene();
  }

  // ---- positions ----------------------------------------------------------------------------

  private mmOf(v: Vec3): [number, number, number] {
    const [sx, sy, sz] = this.spacing;
    return [-v[0] * sx, -v[1] * sy, v[2] * sz];
  }

  private voxelOf(mm: ArrayLike<number>): Vec3 {
    const [sx, sy, sz] = this.spacing;
    return [-mm[0] / sx, -mm[1] / sy, mm[2] / sz];
  }

  /** The crosshair's voxel (integers, inside the grid). */
  get cursor(): Vec3 {
    const v = this.voxelOf(this.nv.frac2mm(this.nv.scene.crosshairPos));
    return v.map((c, a) => Math.min(this.dims[a] - 1, Math.max(0, Math.round(c)))) as Vec3;
  }

  /** Moves the crosshair to a voxel (the planes show the slices through it). */
  setCursor(v: Vec3): void {
    if (!this.background) return;
    this.nv.scene.crosshairPos = this.nv.mm2frac(this.mmOf(v));
    this.nv.drawScene();
  }

  private canvasPoint(clientX: number, clientY: number): [number, number] {
    const r = this.canvas.getBoundingClientRect();
    const dpr = this.nv.uiData.dpr ?? 1;
    return [(clientX - r.left) * dpr, (clientY - r.top) * dpr];
  }

  /** The tile under a client point: its plane ('render' for the 3-D view), or null. */
  tileAt(clientX: number, clientY: number): Axis | 'render' | null {
    if (!this.background) return null;
    const [x, y] = this.canvasPoint(clientX, clientY);
    const tile = this.nv.tileIndex(x, y);
    if (tile < 0) return null;
    const type = this.nv.screenSlices[tile].axCorSag;
    return SLICE_AXIS[type] ?? (type === SLICE_TYPE.RENDER ? 'render' : null);
  }

  /** What a press at a client point means: prompt (the prompt plane), navigate, render, none. */
  tileKind(clientX: number, clientY: number): TileKind {
    const tile = this.tileAt(clientX, clientY);
    if (tile === null) return 'none';
    if (tile === 'render') return 'render';
    return tile === this.axis ? 'prompt' : 'navigate';
  }

  /** Gives niivue the mouse roles for the press that is starting (call before its mousedown). */
  prepareGesture(kind: TileKind): void {
    this.nv.opts.mouseEventConfig = GESTURES[kind];
  }

  /** Continuous voxel position under a client point on a 2-D tile, with the tile's plane. */
  clientToVoxel(clientX: number, clientY: number): { axis: Axis; voxel: Vec3 } | null {
    const axis = this.tileAt(clientX, clientY);
    if (axis === null || axis === 'render') return null;
    const frac = this.nv.canvasPos2frac(this.canvasPoint(clientX, clientY));
    if (frac[0] < 0) return null;
    return { axis, voxel: this.voxelOf(this.nv.frac2mm(frac)) };
  }

  /** Client position of a voxel position on the tile of `axis` (it must lie on the shown slice). */
  voxelToClient(axis: Axis, v: Vec3): [number, number] | null {
    if (!this.background) return null;
    const hit = this.nv.frac2canvasPosWithTile(this.nv.mm2frac(this.mmOf(v)), AXIS_SLICE[axis]);
    if (!hit) return null;
    const r = this.canvas.getBoundingClientRect();
    const dpr = this.nv.uiData.dpr ?? 1;
    return [r.left + hit.pos[0] / dpr, r.top + hit.pos[1] / dpr];
  }

  /** The tile of a plane in CSS pixels of the canvas, or null when it is not shown. */
  tileRect(axis: Axis): { x: number; y: number; w: number; h: number } | null {
    const dpr = this.nv.uiData.dpr ?? 1;
    const s = this.nv.screenSlices.find((t) => t.axCorSag === AXIS_SLICE[axis]);
    if (!s) return null;
    let [x, y, w, h] = s.leftTopWidthHeight;
    if (w < 0) [x, w] = [x + w, -w]; // mirrored (radiological) tiles have a negative width
    return { x: x / dpr, y: y / dpr, w: w / dpr, h: h / dpr };
  }

  // ---- view state ---------------------------------------------------------------------------

  get activeAxis(): Axis {
    return this.axis;
  }

  /** The plane prompts go to (framed in the multiplanar layout, alone in the single layout). */
  setActiveAxis(axis: Axis): void {
    this.axis = axis;
    this.applyLayout();
  }

  get layout(): Layout {
    return this.layoutMode;
  }

  setLayout(layout: Layout): void {
    this.layoutMode = layout;
    this.applyLayout();
  }

  private applyLayout(): void {
    const type = this.layoutMode === 'multiplanar' ? SLICE_TYPE.MULTIPLANAR : this.layoutMode === 'render' ? SLICE_TYPE.RENDER : AXIS_SLICE[this.axis];
    this.nv.setSliceType(type);
  }

  get radiological(): boolean {
    return this.radiologicalMode;
  }

  /** Radiological (patient's right on the screen's left) or neurological convention. */
  setRadiological(on: boolean): void {
    this.radiologicalMode = on;
    this.nv.setRadiologicalConvention(on);
  }

  get zoom(): number {
    return this.nv.scene.pan2Dxyzmm[3];
  }

  /** Scales the 2-D views by `factor` (around the crosshair's position on screen). */
  zoomBy(factor: number): void {
    const p = this.nv.scene.pan2Dxyzmm;
    const zoom = Math.min(MAX_ZOOM, Math.max(MIN_ZOOM, p[3] * factor));
    this.nv.setPan2Dxyzmm([p[0], p[1], p[2], zoom]);
    this.nv.drawScene();
  }

  /** Zoom 1, no pan. */
  resetView(): void {
    this.nv.setPan2Dxyzmm([0, 0, 0, 1]);
    this.nv.drawScene();
  }

}

/** niivue's label colour table: one colour per label value, label 0 transparent. */
function labelColormap(colors: ReadonlyMap<number, Rgb>): { R: number[]; G: number[]; B: number[]; A: number[]; I: number[] } {
  const maxId = Math.max(1, ...colors.keys());
  const t = { R: [] as number[], G: [] as number[], B: [] as number[], A: [] as number[], I: [] as number[] };
  for (let id = 0; id <= maxId; id++) {
    const c = colors.get(id) ?? [255, 255, 255];
    t.R.push(c[0]);
    t.G.push(c[1]);
    t.B.push(c[2]);
    t.A.push(id === 0 ? 0 : 255);
    t.I.push(id);
  }
  return t;
}
