/** The mask document lives in the app layer (src/app/maskDoc.ts); re-exported for the mask editor. */
export { canvasState, decodePhoto, MaskDoc, type BasePhoto } from '../../app/maskDoc';
